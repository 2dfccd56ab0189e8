// Packing copies a block of op(A) or op(B) into the order the micro-kernel reads, so that the
// inner loop walks memory contiguously whatever the transposition of the operands.
//
// m, n, k: the sizes of C = op(A)[m×k] · op(B)[k×n]; mc/nc/kc: the block being packed.

import LianKernelsC

/// Packs op(A)[i0..<i0+mc, p0..<p0+kc] into MR-row panels (kc × MR each), scaled by `alpha`,
/// zero-padding the last panel to MR rows.
@inline(__always) @usableFromInline
func packA(transA: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, mc: Int, p0: Int, kc: Int,
           alpha: Float, mr: Int, into dst: UnsafeMutablePointer<Float>) {
    if transA && mr == 8 && mc % 8 == 0 {
        // op(A)[i, p] = A[p, i]: walk A a row at a time (mc consecutive floats), dealing each
        // row's 8-float pieces to the panels, so that A streams in order instead of being read
        // 32 bytes a row, panel after panel.
        let panels = mc / 8
        for p in 0..<kc {
            let src = a + (p0 + p) * lda + i0
            // A's rows are lda apart, so each row's mc floats are a short stream of their own
            // that the hardware prefetcher picks up late: ask for the row packAStreamAhead on.
            if p + packAStreamAhead < kc {
                let next = src + packAStreamAhead * lda
                var q = 0
                while q < mc { lian_prefetch_for_read(next + q); q += 16 }
            }
            var out = dst + p * 8
            for q in 0..<panels {
                let v = UnsafeRawPointer(src + q * 8).loadUnaligned(as: SIMD8<Float>.self) * alpha
                UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD8<Float>.self)
                out += 8 * kc
            }
        }
        return
    }
    var ir = 0
    while ir < mc {
        let rows = min(mr, mc - ir)
        let panel = dst + ir * kc
        if transA {
            // op(A)[i, p] = A[p, i]: each k step reads `rows` consecutive floats.
            for p in 0..<kc {
                let src = a + (p0 + p) * lda + i0 + ir
                let out = panel + p * mr
                if rows == 8 && mr == 8 {
                    let v = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self) * alpha
                    UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD8<Float>.self)
                } else {
                    for r in 0..<rows { out[r] = alpha * src[r] }
                    for r in rows..<mr { out[r] = 0 }
                }
            }
        } else if rows == 8 && mr == 8 {
            // op(A)[i, p] = A[i, p]: gather one k step from 8 rows into one vector store.
            let s0 = a + (i0 + ir) * lda + p0
            let s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda, s6 = s5 + lda, s7 = s6 + lda
            // 16 k steps at a time transposed in registers, the rest gathered a step at a time.
            // Each row's kc floats are a short stream of their own (rows lda apart), which the
            // hardware prefetcher picks up late: ask for the next panel's 8 lines beside these.
            let prefetchesNext = ir + 8 < mc
            var start = 0
            while start + 16 <= kc {
                if prefetchesNext { prefetchLines(of: 8, from: s0 + 8 * lda + start, stride: lda) }
                transpose8x16(s0 + start, lda, into: panel + start * 8, alpha: alpha)
                start += 16
            }
            for p in start..<kc {
                let v = SIMD8<Float>(s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]) * alpha
                UnsafeMutableRawPointer(panel + p * 8).storeBytes(of: v, as: SIMD8<Float>.self)
            }
        } else {
            // The general case (6-row panels, edge panels): each row is contiguous in k; write it
            // with stride MR.
            for r in 0..<rows {
                let src = a + (i0 + ir + r) * lda + p0
                var out = panel + r
                for p in 0..<kc { out.pointee = alpha * src[p]; out += mr }
            }
            if rows < mr {
                for p in 0..<kc { for r in rows..<mr { panel[p * mr + r] = 0 } }
            }
        }
        ir += mr
    }
}

/// How many rows of a transposed A ahead its packing asks for (packA): 2, 4, 8 and 16 measured
/// alike, 1.0–1.5% faster than none on 4096×3072×768 Aᵀ·B (two threads, in-process pairs).
@usableFromInline let packAStreamAhead = 8

/// Asks for the cache line at `start` in each of `count` rows `stride` floats apart.
@inline(__always) @usableFromInline
func prefetchLines(of count: Int, from start: UnsafePointer<Float>, stride: Int) {
    for r in 0..<count { lian_prefetch_for_read(start + r * stride) }
}

/// Packs op(B)[p0..<p0+kc, j0..<j0+nc] into NR-column panels (kc × NR each), zero-padding the
/// last panel to NR columns.
@inline(__always) @usableFromInline
func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, kc: Int, j0: Int, nc: Int,
           nr: Int, into dst: UnsafeMutablePointer<Float>) {
    if !transB {
        // op(B)[p, j] = B[p, j]: rows are contiguous. Walk B a row at a time, dealing each row's
        // NR-wide pieces out to the panels: a wide B's rows are pages apart, and a panel at a
        // time would touch kc pages per panel (a TLB miss per copy).
        let fullPanels = nc / nr
        for p in 0..<kc {
            let src = b + (p0 + p) * ldb + j0
            for q in 0..<fullPanels {
                let from = src + q * nr, to = dst + q * nr * kc + p * nr
                var j = 0
                while j < nr { storeV16(loadV16(from + j), to + j); j += 16 }
            }
        }
        if nc % nr != 0 {
            let jr = fullPanels * nr, cols = nc - jr
            let panel = dst + jr * kc
            for p in 0..<kc {
                let src = b + (p0 + p) * ldb + j0 + jr
                for j in 0..<cols { panel[p * nr + j] = src[j] }
                for j in cols..<nr { panel[p * nr + j] = 0 }
            }
        }
        return
    }
    var jr = 0
    while jr < nc {
        let cols = min(nr, nc - jr)
        let panel = dst + jr * kc
        if cols == nr && nr % 16 == 0 {
            // op(B)[p, j] = B[j, p]: 16 rows of B × 16 k steps at a time, transposed in
            // registers; the rest of kc a k step at a time from 16 rows.
            var j = 0
            while j < nr {
                let base = b + (j0 + jr + j) * ldb + p0
                var p = 0
                while p + 16 <= kc {
                    transpose16(base + p, ldb, into: panel + p * nr + j, stride: nr)
                    p += 16
                }
                if p < kc {
                    packColumns16(base, ldb, from: p, to: kc, into: panel + j, stride: nr)
                }
                j += 16
            }
        } else {
            // op(B)[p, j] = B[j, p]: each column of op(B) is a contiguous row of B.
            for j in 0..<cols {
                let src = b + (j0 + jr + j) * ldb + p0
                var out = panel + j
                for p in 0..<kc { out.pointee = src[p]; out += nr }
            }
            if cols < nr {
                for p in 0..<kc { for j in cols..<nr { panel[p * nr + j] = 0 } }
            }
        }
        jr += nr
    }
}

/// Adds the kc rows of a packed block of op(B) (NR-column panels, as `packB` writes them) into
/// `sums` (nc values), row after row; `first` starts the sums at zero. Each column is summed in
/// order of k, as a plain loop over the rows of op(B) would. The block was just packed, so it
/// is read from cache, not from op(B)'s memory.
@inline(__always) @usableFromInline
func sumPackedColumns(_ packed: UnsafePointer<Float>, kc: Int, nc: Int, nr: Int,
                      into sums: UnsafeMutablePointer<Float>, first: Bool) {
    var jr = 0
    while jr < nc {
        let cols = min(nr, nc - jr)
        let panel = packed + jr * kc, out = sums + jr
        if first { out.update(repeating: 0, count: cols) }
        if cols == nr && nr % 16 == 0 {
            var j = 0
            while j < nr {
                var acc = loadV16(out + j)
                var row = panel + j
                for _ in 0..<kc { acc += loadV16(row); row += nr }
                storeV16(acc, out + j)
                j += 16
            }
        } else {
            for j in 0..<cols {
                var acc = out[j]
                for p in 0..<kc { acc += panel[p * nr + j] }
                out[j] = acc
            }
        }
        jr += nr
    }
}

/// Writes the transpose of a 16×16 block: row r of the source (16 floats at src + r·ld) becomes
/// column r of the destination (dst + q·stride holds source column q). Four rounds of "unzip"
/// (even lanes of a pair of rows, then odd lanes) each rotate the 8-bit element index by one
/// bit, so four of them swap its row and column halves: one two-source permute per vector per
/// round instead of a 16-lane gather per output vector.
@inline(__always) @usableFromInline
func transpose16(_ src: UnsafePointer<Float>, _ ld: Int, into dst: UnsafeMutablePointer<Float>, stride: Int) {
    var v = (loadV16(src), loadV16(src + ld), loadV16(src + 2 * ld), loadV16(src + 3 * ld),
             loadV16(src + 4 * ld), loadV16(src + 5 * ld), loadV16(src + 6 * ld), loadV16(src + 7 * ld),
             loadV16(src + 8 * ld), loadV16(src + 9 * ld), loadV16(src + 10 * ld), loadV16(src + 11 * ld),
             loadV16(src + 12 * ld), loadV16(src + 13 * ld), loadV16(src + 14 * ld), loadV16(src + 15 * ld))
    for _ in 0..<4 {
        let (e0, o0) = unzip(v.0, v.1), (e1, o1) = unzip(v.2, v.3), (e2, o2) = unzip(v.4, v.5), (e3, o3) = unzip(v.6, v.7)
        let (e4, o4) = unzip(v.8, v.9), (e5, o5) = unzip(v.10, v.11), (e6, o6) = unzip(v.12, v.13), (e7, o7) = unzip(v.14, v.15)
        v = (e0, e1, e2, e3, e4, e5, e6, e7, o0, o1, o2, o3, o4, o5, o6, o7)
    }
    storeV16(v.0, dst); storeV16(v.1, dst + stride); storeV16(v.2, dst + 2 * stride); storeV16(v.3, dst + 3 * stride)
    storeV16(v.4, dst + 4 * stride); storeV16(v.5, dst + 5 * stride); storeV16(v.6, dst + 6 * stride); storeV16(v.7, dst + 7 * stride)
    storeV16(v.8, dst + 8 * stride); storeV16(v.9, dst + 9 * stride); storeV16(v.10, dst + 10 * stride); storeV16(v.11, dst + 11 * stride)
    storeV16(v.12, dst + 12 * stride); storeV16(v.13, dst + 13 * stride); storeV16(v.14, dst + 14 * stride); storeV16(v.15, dst + 15 * stride)
}

/// 8 rows × 16 k steps (row r: 16 floats at src + r·ld) written k-major: dst[p·8 + r], 128
/// floats, scaled by alpha. Four unzip rounds move the row index below the k index.
@inline(__always) @usableFromInline
func transpose8x16(_ src: UnsafePointer<Float>, _ ld: Int, into dst: UnsafeMutablePointer<Float>, alpha: Float) {
    var v = (loadV16(src), loadV16(src + ld), loadV16(src + 2 * ld), loadV16(src + 3 * ld),
             loadV16(src + 4 * ld), loadV16(src + 5 * ld), loadV16(src + 6 * ld), loadV16(src + 7 * ld))
    for _ in 0..<4 {
        let (e0, o0) = unzip(v.0, v.1), (e1, o1) = unzip(v.2, v.3)
        let (e2, o2) = unzip(v.4, v.5), (e3, o3) = unzip(v.6, v.7)
        v = (e0, e1, e2, e3, o0, o1, o2, o3)
    }
    let scale = V16(repeating: alpha)
    storeV16(v.0 * scale, dst); storeV16(v.1 * scale, dst + 16); storeV16(v.2 * scale, dst + 32); storeV16(v.3 * scale, dst + 48)
    storeV16(v.4 * scale, dst + 64); storeV16(v.5 * scale, dst + 80); storeV16(v.6 * scale, dst + 96); storeV16(v.7 * scale, dst + 112)
}

/// The even lanes of a then b, and the odd lanes of a then b: one two-source permute each,
/// written in C (LianKernelsC) because Swift's SIMD32 evenHalf/oddHalf, and a lane-by-lane
/// initializer, compile to that permute in some callers only — inlined deep in the GEMM's
/// row-block loop, the halves were left as function calls (two-thread products with a packed A
/// or a transposed B 3–5% slower) and the lane-by-lane form doubled the permutes.
@inline(__always) @usableFromInline
func unzip(_ a: V16, _ b: V16) -> (V16, V16) {
    (lian_even_lanes(a, b), lian_odd_lanes(a, b))
}

/// Columns `from..<to` of 16 rows (src + r·ld), each written as one 16-float vector at
/// dst + p·stride.
@inline(__always) @usableFromInline
func packColumns16(_ src: UnsafePointer<Float>, _ ld: Int, from: Int, to: Int, into dst: UnsafeMutablePointer<Float>, stride: Int) {
    for p in from..<to {
        var v = V16()
        for r in 0..<16 { v[r] = src[r * ld + p] }
        storeV16(v, dst + p * stride)
    }
}

