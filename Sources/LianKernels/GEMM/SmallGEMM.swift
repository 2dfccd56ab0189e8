// Small products without packing: C = alpha · op(A) · B + beta · C for a B that is not
// transposed (its rows are contiguous in n), read where they lie.
//
// For a product as small as one attention block (64×64×32), packing both operands costs about as
// much as the multiply-adds, and the blocked path ran at half of OpenBLAS's small-matrix speed.
// Here the 8 × 32 register tile of MicroKernel8x32 (multiplyTile8x32) takes each k step's two
// vectors straight from row p of B and its 8 broadcasts straight from op(A): A[i, p] (stride lda
// between the rows) or, for Aᵀ, A[p, i] (8 consecutive floats). Only a last column tile narrower
// than 32 is copied, zero-padded, so that no load reads past B.
//
//   C[m×n] (ldc), op(A)[m×k]: A[m×k] (lda) or Aᵀ with A[k×m] (lda), B[k×n] (ldb)
//
// Each element of C is one sum over k in order, scaled by alpha once at the end.

enum SmallGEMM {
    /// Zeros a causal attention block's products may skip, by whole tiles (row tiles of 8 from
    /// row i). `offset` is the block's first row in the sequence (r0): row i of the block is
    /// position r0 + i, which sees positions 0...r0 + i.
    ///   columnsPastRow: C[i, j] is not needed for j > r0 + i (S = Q·Kᵀ, dP = dO·Vᵀ): column tiles
    ///                   that start past the row tile's last position are not computed.
    ///   kPastRow:       op(A)[i, p] = 0 for p > r0 + i (P·V, dS·K): the sum stops there.
    ///   kBeforeRow:     op(A)[i, p] = A[p, i] = 0 for i > r0 + p (Pᵀ·dO, dSᵀ·Q): the sum starts
    ///                   at p = i − r0.
    /// Skipped terms are products with zero, so the sums are the same bits as over all of k.
    enum CausalSkip {
        case columnsPastRow(offset: Int), kPastRow(offset: Int), kBeforeRow(offset: Int)
    }

    /// Products up to this many multiply-adds take this path when the caller runs them on one
    /// thread (where it measured faster than packing; see BENCHMARKS.md).
    static let maximumWork = GEMM.tuning("LIAN_SMALL_GEMM", 1 << 20)

    /// Whether a product of B not transposed and at most `limit` multiply-adds takes this path.
    @inline(__always)
    static func suits(transB: Bool, m: Int, n: Int, k: Int, limit: Int) -> Bool {
        !transB && m * n * k <= limit
    }

    static func run(transA: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                    skipping skip: CausalSkip? = nil) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: k * 32 + 16) { edge in
            var j = 0
            while j < n {
                let cols = min(32, n - j)
                var bTile = b + j, bStride = ldb
                if cols < 32 {
                    // The last, narrow column tile: copied and zero-padded to 32 columns.
                    let e = edge.baseAddress!
                    for p in 0..<k {
                        let src = b + p * ldb + j, dst = e + p * 32
                        for q in 0..<cols { dst[q] = src[q] }
                        for q in cols..<32 { dst[q] = 0 }
                    }
                    bTile = UnsafePointer(e); bStride = 32
                }
                var i = 0
                while i < m {
                    let rows = min(8, m - i), cTile = c + i * ldc + j, biasTile = bias.map { $0 + j }
                    // The k range of this tile: all of it, or what the causal mask leaves.
                    var kFirst = 0, kEnd = k
                    switch skip {
                    case .columnsPastRow(let r0)?:
                        if j > r0 + i + rows - 1 { i += 8; continue }
                    case .kPastRow(let r0)?:
                        kEnd = min(k, r0 + i + rows)
                    case .kBeforeRow(let r0)?:
                        kFirst = min(k, max(0, i - r0))
                    case nil:
                        break
                    }
                    let kTile = kEnd - kFirst
                    let aTile = transA ? a + kFirst * lda : a + kFirst, bRows = bTile + kFirst * bStride
                    // Literal flags, so that each of the four variants is compiled with its row
                    // offsets known (constants for Aᵀ, multiples of lda for A).
                    switch (transA, rows == 8) {
                    case (true, true):
                        tile(transA: true, full: true, k: kTile, a: aTile, lda: lda, i: i, rows: rows, b: bRows, ldb: bStride,
                             alpha: alpha, beta: beta, c: cTile, ldc: ldc, cols: cols, bias: biasTile)
                    case (true, false):
                        tile(transA: true, full: false, k: kTile, a: aTile, lda: lda, i: i, rows: rows, b: bRows, ldb: bStride,
                             alpha: alpha, beta: beta, c: cTile, ldc: ldc, cols: cols, bias: biasTile)
                    case (false, true):
                        tile(transA: false, full: true, k: kTile, a: aTile, lda: lda, i: i, rows: rows, b: bRows, ldb: bStride,
                             alpha: alpha, beta: beta, c: cTile, ldc: ldc, cols: cols, bias: biasTile)
                    case (false, false):
                        tile(transA: false, full: false, k: kTile, a: aTile, lda: lda, i: i, rows: rows, b: bRows, ldb: bStride,
                             alpha: alpha, beta: beta, c: cTile, ldc: ldc, cols: cols, bias: biasTile)
                    }
                    i += 8
                }
                j += 32
            }
        }
    }

    /// One 8×32 tile of C from rows i..<i+rows of op(A). Rows past `rows` repeat the last one
    /// (so every broadcast reads valid memory) and are not written.
    @inline(__always)
    static func tile(transA: Bool, full: Bool, k: Int, a: UnsafePointer<Float>, lda: Int, i: Int, rows: Int,
                     b: UnsafePointer<Float>, ldb: Int, alpha: Float, beta: Float,
                     c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int, bias: UnsafePointer<Float>?) {
        // Where A[i + r, p] sits: base + r-offset + p · pStep; a partial tile repeats its last row.
        let rowStep = transA ? 1 : lda, pStep = transA ? lda : 1
        let base = transA ? a + i : a + i * lda
        @inline(__always) func offset(_ r: Int) -> Int { (full ? r : min(r, rows - 1)) * rowStep }
        let o1 = offset(1), o2 = offset(2), o3 = offset(3), o4 = offset(4), o5 = offset(5), o6 = offset(6), o7 = offset(7)
        let left = min(cols, 16), right = max(0, cols - 16)
        multiplyTile8x32(k: k, a: base, rowOffsets: (o1, o2, o3, o4, o5, o6, o7), aStep: pStep, b: b, bStep: ldb,
                         c: c, ldc: ldc, rows: rows) { r, v0, v1 in
            let dst = c + r * ldc
            writeScaledRow(v0, dst, cols: left, alpha: alpha, beta: beta, bias: bias)
            if right > 0 { writeScaledRow(v1, dst + 16, cols: right, alpha: alpha, beta: beta, bias: bias.map { $0 + 16 }) }
        }
    }

    /// dst = alpha · v (+ bias) + beta · dst for the first `cols` lanes; beta 0 never reads dst.
    @inline(__always)
    static func writeScaledRow(_ v: V16, _ dst: UnsafeMutablePointer<Float>, cols: Int, alpha: Float, beta: Float,
                               bias: UnsafePointer<Float>?) {
        var x = alpha == 1 ? v : v * alpha
        if cols == 16 {
            if let bias { x += loadV16(bias) }
            if beta == 1 { x += loadV16(dst) } else if beta != 0 { x = x.addingProduct(beta, loadV16(dst)) }
            storeV16(x, dst)
        } else {
            for q in 0..<cols {
                var y = x[q]
                if let bias { y += bias[q] }
                if beta == 1 { y += dst[q] } else if beta != 0 { y += beta * dst[q] }
                dst[q] = y
            }
        }
    }
}
