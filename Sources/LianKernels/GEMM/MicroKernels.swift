// The innermost loop of the blocked GEMM: an MR×NR tile of C held in registers while the packed
// panels of A (MR values per k) and B (NR values per k) stream through.
//
// Packed layouts (see Packing.swift):
//   A panel: kc steps × MR floats   — a[p*MR + r] = alpha · op(A)[row r, k p]
//   B panel: kc steps × NR floats   — b[p*NR + j] = op(B)[k p, col j]
// Both panels are zero-padded to full MR / NR, so the loop never branches; the edge tiles are
// written through a scratch tile instead.

import LianKernelsC

@usableFromInline typealias V16 = SIMD16<Float>

/// One register-tile shape. `accumulate` says whether C already holds a partial sum to add to;
/// `bias`, when given, is a row of NR values added to every row of the tile as it is written.
@usableFromInline protocol GEMMMicroKernel: SendableMetatype {
    static var mr: Int { get }
    static var nr: Int { get }
    static func run(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                    bias: UnsafePointer<Float>?)
}

@inline(__always) @usableFromInline
func loadV16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always) @usableFromInline
func storeV16(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

/// Writes one row of a tile: `cols` valid columns, the rest of the vector dropped; `bias`
/// (`cols` values) is added when given.
@inline(__always) @usableFromInline
func writeRow(_ v: V16, _ dst: UnsafeMutablePointer<Float>, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?) {
    if cols == 16 {
        var v = v
        if let bias { v += loadV16(bias) }
        storeV16(accumulate ? loadV16(dst) + v : v, dst)
    } else {
        for j in 0..<cols {
            let x = bias.map { v[j] + $0[j] } ?? v[j]
            dst[j] = accumulate ? dst[j] + x : x
        }
    }
}

/// 6 rows × 16 columns: 6 vector accumulators (12 AVX2 registers, 6 AVX-512 registers).
/// The shape that suits 16-register AVX2 machines.
@usableFromInline enum MicroKernel6x16: GEMMMicroKernel {
    @usableFromInline static var mr: Int { 6 }
    @usableFromInline static var nr: Int { 16 }

    @inline(__always) @usableFromInline
    static func run(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                    bias: UnsafePointer<Float>?) {
        var c0 = V16(), c1 = V16(), c2 = V16(), c3 = V16(), c4 = V16(), c5 = V16()
        for r in 0..<rows { lian_prefetch_for_write(c + r * ldc) }   // see MicroKernel8x32
        var ap = a, bp = b
        for _ in 0..<kc {
            let bv = UnsafeRawPointer(bp).load(as: V16.self)
            c0 = c0.addingProduct(ap[0], bv)
            c1 = c1.addingProduct(ap[1], bv)
            c2 = c2.addingProduct(ap[2], bv)
            c3 = c3.addingProduct(ap[3], bv)
            c4 = c4.addingProduct(ap[4], bv)
            c5 = c5.addingProduct(ap[5], bv)
            ap += 6; bp += 16
        }
        let tile = (c0, c1, c2, c3, c4, c5)
        if rows > 0 { writeRow(tile.0, c, cols: cols, accumulate: accumulate, bias: bias) }
        if rows > 1 { writeRow(tile.1, c + ldc, cols: cols, accumulate: accumulate, bias: bias) }
        if rows > 2 { writeRow(tile.2, c + 2 * ldc, cols: cols, accumulate: accumulate, bias: bias) }
        if rows > 3 { writeRow(tile.3, c + 3 * ldc, cols: cols, accumulate: accumulate, bias: bias) }
        if rows > 4 { writeRow(tile.4, c + 4 * ldc, cols: cols, accumulate: accumulate, bias: bias) }
        if rows > 5 { writeRow(tile.5, c + 5 * ldc, cols: cols, accumulate: accumulate, bias: bias) }
    }
}

/// 8 rows × 32 columns: 16 vector accumulators. Only sensible with 32 wide registers (AVX-512),
/// where it keeps both FMA ports busy; on AVX2 it would spill.
@usableFromInline enum MicroKernel8x32: GEMMMicroKernel {
    @usableFromInline static var mr: Int { 8 }
    @usableFromInline static var nr: Int { 32 }

    @inline(__always) @usableFromInline
    static func run(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                    bias: UnsafePointer<Float>?) {
        // Packed panels: row r of A at a[r + 8p], B's step p at b[32p].
        let left = min(cols, 16), right = max(0, cols - 16)
        multiplyTile8x32(k: kc, a: a, rowOffsets: (1, 2, 3, 4, 5, 6, 7), aStep: 8, b: b, bStep: 32,
                         bPrefetchDistance: packedBPrefetchDistance,
                         c: c, ldc: ldc, rows: rows) { r, v0, v1 in
            let dst = c + r * ldc
            writeRow(v0, dst, cols: left, accumulate: accumulate, bias: bias)
            if right > 0 { writeRow(v1, dst + 16, cols: right, accumulate: accumulate, bias: bias.map { $0 + 16 }) }
        }
    }
}

extension MicroKernel8x32 {
    /// An mc × nc block of C from a packed block of B (NR-column panels, kc × 32 each) and a
    /// non-transposed A read in place: A[i, p] at a[i·lda + p], so a tile's 8 broadcasts per k step
    /// come from 8 row streams, each running along k. A last tile of fewer than 8 rows repeats
    /// its last row (valid memory; the extra rows are not written).
    @inline(__always)
    static func runBlockUnpackedA(kc: Int, a: UnsafePointer<Float>, lda: Int, m: Int, b: UnsafePointer<Float>,
                                  n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                  bias: UnsafePointer<Float>?) {
        var jr = 0
        while jr < n {
            let cols = min(nr, n - jr)
            let left = min(cols, 16), right = max(0, cols - 16)
            let panel = b + jr * kc, tileBias = bias.map { $0 + jr }
            var i = 0
            while i < m {
                let rows = min(mr, m - i), cTile = c + i * ldc + jr
                let offsets = rows == mr ? (lda, 2 * lda, 3 * lda, 4 * lda, 5 * lda, 6 * lda, 7 * lda)
                    : (min(1, rows - 1) * lda, min(2, rows - 1) * lda, min(3, rows - 1) * lda, min(4, rows - 1) * lda,
                       min(5, rows - 1) * lda, min(6, rows - 1) * lda, min(7, rows - 1) * lda)
                multiplyTile8x32(k: kc, a: a + i * lda, rowOffsets: offsets, aStep: 1, b: panel, bStep: 32,
                                 bPrefetchDistance: packedBPrefetchDistance,
                                 c: cTile, ldc: ldc, rows: rows) { r, v0, v1 in
                    let dst = cTile + r * ldc
                    writeRow(v0, dst, cols: left, accumulate: accumulate, bias: tileBias)
                    if right > 0 { writeRow(v1, dst + 16, cols: right, accumulate: accumulate, bias: tileBias.map { $0 + 16 }) }
                }
                i += mr
            }
            jr += nr
        }
    }
}

/// How far ahead (floats: 32 k steps, 4 KiB) the 8 × 32 tile asks for a packed B panel's lines,
/// two each k step. Where B streams from L2 past an A micro-panel held in L1 (a wide product's
/// A-outer order) the L1 prefetcher alone falls behind: 4096×768×3072 +4–7% with two threads;
/// in the usual order, where only a panel's first tile reads it from L2, +1–2% (and the next
/// panel's start is fetched as this one ends). 768, 1024 and 1536 measured alike, 256 less.
@usableFromInline let packedBPrefetchDistance = 1024

/// k steps of the 8 × 32 tile between two prefetches of its C lines (multiplyTile8x32): 4, 8, 12
/// and 16 measured alike, all ahead of the 16 lines at once.
@usableFromInline let cPrefetchSpacing = 8

/// The 8 × 32 register tile (16 vector accumulators), shared by the packed micro-kernel and the
/// unpacked small-product path (SmallGEMM): asks for C's first `rows` rows, runs k steps of
/// C += op(A) broadcasts × two vectors of B, and hands each of those rows to `write` (row index,
/// columns 0..<16, columns 16..<32). Row r of op(A) at step p is a[o_r + p·aStep] with o_0 = 0
/// and `rowOffsets` = (o_1, …, o_7); B's step p is the 32 floats at b + p·bStep. A packed B
/// (bStep 32) passes `bPrefetchDistance` to have its lines asked for that many floats ahead.
@inline(__always) @usableFromInline
func multiplyTile8x32(k: Int, a: UnsafePointer<Float>, rowOffsets o: (Int, Int, Int, Int, Int, Int, Int), aStep: Int,
                      b: UnsafePointer<Float>, bStep: Int, bPrefetchDistance: Int = 0, c: UnsafeMutablePointer<Float>,
                      ldc: Int, rows: Int, write: (_ row: Int, _ left: V16, _ right: V16) -> Void) {
    var c00 = V16(), c01 = V16(), c10 = V16(), c11 = V16()
    var c20 = V16(), c21 = V16(), c30 = V16(), c31 = V16()
    var c40 = V16(), c41 = V16(), c50 = V16(), c51 = V16()
    var c60 = V16(), c61 = V16(), c70 = V16(), c71 = V16()
    // The C tile is read and written only after the k loop: ask for its lines (two per row)
    // while the loop runs, so that they arrive before the write-back instead of stalling it. One
    // line every `cPrefetchSpacing` steps, not all at once: 16 misses issued together fill the
    // core's line-fill buffers, and the loop's own loads of A from L2 wait behind them. Spread,
    // two threads: the benchmark's 4096-row products +1–2%, the small step's products +1–5%.
    let lines = 2 * rows
    var line = 0
    if k < cPrefetchSpacing * lines {
        for r in 0..<rows {
            lian_prefetch_for_write(c + r * ldc)
            lian_prefetch_for_write(c + r * ldc + 16)
        }
        line = lines
    }
    var ap = a, bp = b
    var p = 0
    while p < k {
        if line < lines {
            lian_prefetch_for_write(c + (line >> 1) * ldc + (line & 1) * 16)
            line += 1
        }
        let stepsEnd = min(p + cPrefetchSpacing, k)
        while p < stepsEnd {
            p += 1
            if bPrefetchDistance > 0 {
                lian_prefetch_for_read(bp + bPrefetchDistance)
                lian_prefetch_for_read(bp + bPrefetchDistance + 16)
            }
            let b0 = loadV16(bp), b1 = loadV16(bp + 16)
            var s = ap[0]; c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
            s = ap[o.0]; c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
            s = ap[o.1]; c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
            s = ap[o.2]; c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
            s = ap[o.3]; c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
            s = ap[o.4]; c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
            s = ap[o.5]; c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
            s = ap[o.6]; c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
            ap += aStep; bp += bStep
        }
    }
    if rows > 0 { write(0, c00, c01) }
    if rows > 1 { write(1, c10, c11) }
    if rows > 2 { write(2, c20, c21) }
    if rows > 3 { write(3, c30, c31) }
    if rows > 4 { write(4, c40, c41) }
    if rows > 5 { write(5, c50, c51) }
    if rows > 6 { write(6, c60, c61) }
    if rows > 7 { write(7, c70, c71) }
}

