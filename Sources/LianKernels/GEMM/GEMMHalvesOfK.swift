// A weight gradient Xᵀ·dY over many tokens, summed in two halves of k.
//
//   C[m×n] = beta · C + alpha · Aᵀ[:, 0..<h] · B[0..<h, :]  (+ bias)     — first half, into C
//          +          alpha · Aᵀ[:, h..<k] · B[h..<k, :]                   — second half, into P, added
//   columnSums[n] = Σ_{p<h} B[p, ·] + Σ_{p≥h} B[p, ·]                      (when asked for)
//
// A weight gradient has a small C (width × width) and a long k (every token of the batch). Split
// by columns, each of two threads packed all of Xᵀ and read every token's row of dY; split by
// halves of k, each thread packs and reads only its own half of the tokens, and the two partial
// products are added once (m·n values, small here). The halves are fixed by the shape, not by
// the thread count, and the partial sums are added in the same order either way, so the result
// is the same bits on one thread or many.

extension GEMM {
    /// Products that are summed in two halves of k: Aᵀ·B (a weight gradient) with k of at least
    /// `halvesOfKMinimumK` and a C of at most `halvesOfKMaximumOutput` values. Tiny-preset step
    /// 1–3% faster (in-process A/B); outputs up to 2M values (small's MLP weight gradients)
    /// measured 1–4% slower, so they are split by columns as before.
    static let halvesOfKMinimumK = 2048
    static let halvesOfKMaximumOutput = 1 << 18

    @inline(__always)
    static func sumsInHalvesOfK(transA: Bool, transB: Bool, m: Int, n: Int, k: Int) -> Bool {
        transA && !transB && k >= halvesOfKMinimumK && m * n <= halvesOfKMaximumOutput
    }

    /// See the file header. `threads` as for `split`.
    @inline(__always)
    static func sgemmInHalvesOfK<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ threads: Int, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, columnSums: UnsafeMutablePointer<Float>?
    ) {
        let half = (k / 2) / 16 * 16
        // The second half's product (m × n, row stride n) and column sums (n).
        let scratch = BufferPool.shared.take(m * n + n)
        defer { BufferPool.shared.give(scratch.pointer, capacity: scratch.capacity) }
        let A = SendablePointer(a), B = SendablePointer(b), C = SendablePointer(c), P = SendablePointer(scratch.pointer)
        let biasPointer = bias.map { SendablePointer($0) }, sums = columnSums.map { SendablePointer($0) }
        let partialSums = columnSums == nil ? nil : SendablePointer(P.base + m * n)
        @Sendable func first(_ threads: Int) {
            split(K.self, threads, true, false, m, n, half, alpha, A.base, lda, B.base, ldb, beta, C.base, ldc,
                  biasPointer.map { UnsafePointer($0.base) }, sums?.base)
        }
        @Sendable func second(_ threads: Int) {
            split(K.self, threads, true, false, m, n, k - half, alpha, A.base + half * lda, lda, B.base + half * ldb, ldb,
                  0, P.base, n, nil, partialSums?.base)
        }
        if threads == 2 {
            parallelFor(2) { $0 == 0 ? first(1) : second(1) }
        } else {
            first(threads); second(threads)
        }
        // C += P, row by row (m·n ≤ 256K values: one thread is enough).
        for i in 0..<m {
            let row = C.base + i * ldc, partial = P.base + i * n
            var j = 0
            while j + 16 <= n { storeV16(loadV16(row + j) + loadV16(partial + j), row + j); j += 16 }
            while j < n { row[j] += partial[j]; j += 1 }
        }
        if let sums, let partialSums {
            for j in 0..<n { sums.base[j] += partialSums.base[j] }
        }
    }
}
