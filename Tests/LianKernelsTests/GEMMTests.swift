import LianKernels
import LianTestSupport
import Testing

/// The fast SGEMM against the naive one, for every transposition case, both micro-kernel shapes,
/// awkward sizes (1, 7, 33, 65, 127: none a multiple of a tile), padded leading dimensions,
/// and alpha/beta; on AVX-512 machines `automatic` also takes small products through SmallGEMM.
@Suite struct GEMMTests {
    static let sizes = [1, 7, 33, 65, 127]
    /// `automatic` adds the unpacked small-product path (SmallGEMM) on AVX-512 machines.
    static let kernels: [GEMM.MicroKernelShape] = [.rows6cols16, .rows8cols32, .automatic]

    func check(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
               kernel: GEMM.MicroKernelShape, threads: Int = 1, pad: Int = 0, withBias: Bool = false) {
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let a = randomValues((transA ? k : m) * lda, seed: 1)
        let b = randomValues((transB ? n : k) * ldb, seed: 2)
        let c0 = randomValues(m * ldc, seed: 3)
        let bias = withBias ? randomValues(n, seed: 4) : []
        var fast = c0, slow = c0
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                fast.withUnsafeMutableBufferPointer { cp in
                    bias.withUnsafeBufferPointer { biasPointer in
                        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                                   b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc,
                                   bias: withBias ? biasPointer.baseAddress : nil, threads: threads, kernel: kernel)
                    }
                }
                slow.withUnsafeMutableBufferPointer { cp in
                    GEMM.referenceSgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                                        lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc)
                }
                if withBias { for i in 0..<m { for j in 0..<n { slow[i * ldc + j] += bias[j] } } }
            }
        }
        // Float accumulation over k terms of size ≤ 1: error grows like √k · ε.
        let (ok, worst) = compare(fast, slow, atol: 1e-5 * Double(k).squareRoot() + 1e-6, rtol: 1e-5)
        #expect(ok, "sgemm \(transA ? "T" : "N")\(transB ? "T" : "N") m=\(m) n=\(n) k=\(k) α=\(alpha) β=\(beta) \(kernel): \(worst)")
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func everySizeAndKernel(transA: Bool, transB: Bool) {
        for kernel in Self.kernels {
            for m in Self.sizes { for n in Self.sizes { for k in Self.sizes {
                check(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: 0, kernel: kernel)
            } } }
        }
    }

    @Test func alphaBetaAndPaddedStrides() {
        for kernel in Self.kernels {
            for (alpha, beta) in [(Float(1), Float(1)), (0.5, -2), (2, 0)] {
                for (ta, tb) in [(false, false), (false, true), (true, false)] {
                    check(transA: ta, transB: tb, m: 33, n: 65, k: 7, alpha: alpha, beta: beta, kernel: kernel, pad: 3)
                }
            }
        }
    }

    /// Large enough to split over two threads, and to cross the kc/mc block boundaries.
    @Test func threadedAndBlocked() {
        for kernel in Self.kernels {
            for (ta, tb) in [(false, false), (false, true), (true, false)] {
                check(transA: ta, transB: tb, m: 301, n: 97, k: 413, alpha: 1, beta: 0, kernel: kernel, threads: 2)
                check(transA: ta, transB: tb, m: 45, n: 530, k: 400, alpha: 1, beta: 1, kernel: kernel, threads: 2)
            }
        }
    }

    /// Wider than several column blocks with a short A: A is packed once and reused (and k spans
    /// two k-blocks), and the column blocks narrow to fit beside A's k-block — or, where that
    /// k-block alone fills the budget (m = 690), the wide product's blocks of at most 512 columns
    /// walked A micro-panel by A micro-panel.
    @Test func wideProductsReuseThePackedA() {
        for kernel in Self.kernels {
            for (ta, tb) in [(false, false), (false, true), (true, false)] {
                check(transA: ta, transB: tb, m: 13, n: 2100, k: 400, alpha: 0.5, beta: 1, kernel: kernel, threads: 2)
                check(transA: ta, transB: tb, m: 70, n: 1500, k: 33, alpha: 1, beta: 0, kernel: kernel, threads: 1)
            }
            check(transA: false, transB: true, m: 690, n: 1030, k: 385, alpha: 0.5, beta: 1, kernel: kernel, threads: 1)
        }
    }

    /// A linear layer's bias, added as the tiles are written: once (with the first of several
    /// k-blocks), on every row, split by rows and by columns, with and without beta.
    @Test func biasIsAddedOnceToEveryRow() {
        for kernel in Self.kernels {
            for (ta, tb) in [(false, false), (false, true), (true, false)] {
                for (m, n, k) in [(33, 65, 7), (301, 97, 413), (45, 530, 400), (13, 2100, 400), (7, 1, 0)] {
                    check(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, beta: 0, kernel: kernel, threads: 2, withBias: true)
                    check(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, beta: 1, kernel: kernel, threads: 1, pad: 3, withBias: true)
                }
            }
        }
    }

    /// The sums over k of op(B)'s columns (a linear layer's bias gradient, taken from the packed
    /// panels): every case, both split directions, several k- and column blocks, k = 0, and in
    /// the order of k, so that they equal a plain loop over the rows bit for bit.
    @Test func columnSumsOfOpB() {
        for kernel in Self.kernels {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                for (m, n, k) in [(33, 65, 7), (301, 97, 413), (45, 530, 400), (5, 1040, 400), (7, 5, 0), (0, 9, 4)] {
                    for threads in [1, 2] {
                        let lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2
                        let a = randomValues(Swift.max(1, (ta ? k : m) * lda), seed: 5)
                        let b = randomValues(Swift.max(1, (tb ? n : k) * ldb), seed: 6)
                        var c = [Float](repeating: 0, count: Swift.max(1, m * n))
                        var sums = [Float](repeating: .nan, count: n)
                        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in sums.withUnsafeMutableBufferPointer { sp in
                                GEMM.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                                           b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: n,
                                           columnSums: sp.baseAddress!, threads: threads, kernel: kernel)
                            } }
                        } }
                        let expected: [Float] = (0..<n).map { j in
                            var sum: Float = 0
                            for p in 0..<k { sum += tb ? b[j * ldb + p] : b[p * ldb + j] }
                            return sum
                        }
                        #expect(sums == expected, "column sums \(ta ? "T" : "N")\(tb ? "T" : "N") m=\(m) n=\(n) k=\(k) threads=\(threads) \(kernel)")
                    }
                }
            }
        }
    }

    /// A weight gradient Aᵀ·B with a long k is summed in two halves of k (GEMMHalvesOfK.swift):
    /// against the naive product with a bias, beta and padded strides; the same bits on one,
    /// two and three threads (the halves run in parallel on two, one after the other on one and
    /// three); column sums that are each half's in-order sum, added.
    @Test func weightGradientsSummedInHalvesOfK() {
        for kernel in Self.kernels {
            for (m, n, k) in [(45, 97, 2049), (128, 64, 2100)] {
                check(transA: true, transB: false, m: m, n: n, k: k, alpha: 0.5, beta: 1, kernel: kernel, threads: 2, pad: 3, withBias: true)
                let lda = m + 1, ldb = n + 2, half = (k / 2) / 16 * 16
                let a = randomValues(k * lda, seed: 7), b = randomValues(k * ldb, seed: 8), bias = randomValues(n, seed: 9)
                var results: [[Float]] = [], allSums: [[Float]] = []
                for threads in [1, 2, 3] {
                    var c = randomValues(m * n, seed: 10), sums = [Float](repeating: .nan, count: n)
                    c.withUnsafeMutableBufferPointer { cp in sums.withUnsafeMutableBufferPointer { sp in
                        GEMM.sgemm(transA: true, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 1,
                                   c: cp.baseAddress!, ldc: n, bias: bias, columnSums: sp.baseAddress!, threads: threads, kernel: kernel)
                    } }
                    results.append(c); allSums.append(sums)
                }
                #expect(results[0] == results[1] && results[1] == results[2], "m=\(m) n=\(n) k=\(k) \(kernel): thread counts disagree")
                let expected: [Float] = (0..<n).map { j in
                    var first: Float = 0, second: Float = 0
                    for p in 0..<half { first += b[p * ldb + j] }
                    for p in half..<k { second += b[p * ldb + j] }
                    return first + second
                }
                #expect(allSums.allSatisfy { $0 == expected }, "column sums m=\(m) n=\(n) k=\(k) \(kernel)")
            }
        }
    }

    /// A tall product split by rows has its row blocks claimed by the threads as they go
    /// (GEMMClaimedRows.swift), and a short, wide one its column chunks (GEMMClaimedColumns.swift):
    /// against the naive product, and the same bits — C and the column sums — on one, two and
    /// three threads, in every transposition case, over several k-blocks (whose sums a row block
    /// must add in order) and two column blocks, with a bias, alpha, beta 1 and padded strides;
    /// n ≤ 512 with alpha 1 also takes the in-place A of the 8×32 kernel; n > 1024 packs op(A)
    /// once into a buffer the threads share, over two k-blocks (530 × 1090 × 400). A short C whose
    /// op(A) is too large to pack once per thread has its column chunks claimed k-block by
    /// k-block, from both ends, each thread packing the k-block's op(A) for itself
    /// (GEMMClaimedColumnsByPhase.swift): 200 × 300 × 1400 (a last chunk of 44 columns, four
    /// k-blocks; three threads, two of them claiming from the left), 200 × 1040 × 1320 (the 8×32
    /// kernel only, to keep the naive product's time down) and 690 × 1060 × 384 (one k-block); past
    /// 1,024 rows, its row blocks are claimed while the threads pack op(B)'s blocks together, chunk
    /// by chunk (GEMMSharedPanels.swift): 1100 × 1110 × 360 (two column blocks). A tall product
    /// with a packed op(A) and a k past one k-block takes GEMM.tallKc (k-blocks of 256, a short
    /// last one): 521 × 40 × 800 where A is transposed or alpha is not 1, and 560 × 200 × 700 (the
    /// 8×32 kernel only).
    @Test func blocksClaimedByThreads() {
        for kernel in [GEMM.MicroKernelShape.rows6cols16, .rows8cols32] {
            for (m, n, k) in [(521, 40, 800), (515, 1060, 12), (530, 1090, 400), (20, 1100, 400), (37, 2100, 30),
                              (200, 300, 1400), (200, 1040, 1320), (560, 200, 700), (690, 1060, 384), (1100, 1110, 360)]
                where kernel == .rows8cols32 || (n < 1040 && m < 560) {
                for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                    // 690 × 1060 × 384 and 1100 × 1110 × 360 are compared across thread counts
                    // only (their naive products would take seconds each); the one-thread
                    // blocking they are compared with is checked against it on the other shapes.
                    if m < 600 {
                        check(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, beta: 0, kernel: kernel, threads: 2)
                    }
                    do {
                        let alpha: Float = tb ? 0.5 : 1
                        let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1
                        let a = randomValues((ta ? k : m) * lda, seed: 11), b = randomValues((tb ? n : k) * ldb, seed: 12)
                        let bias = randomValues(n, seed: 13)
                        var results: [[Float]] = [], allSums: [[Float]] = []
                        for threads in [1, 2, 3] {
                            var c = randomValues(m * ldc, seed: 14), sums = [Float](repeating: .nan, count: n)
                            c.withUnsafeMutableBufferPointer { cp in sums.withUnsafeMutableBufferPointer { sp in
                                GEMM.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                           beta: 1, c: cp.baseAddress!, ldc: ldc, bias: bias, columnSums: sp.baseAddress!,
                                           threads: threads, kernel: kernel)
                            } }
                            results.append(c); allSums.append(sums)
                        }
                        let name = "\(ta ? "T" : "N")\(tb ? "T" : "N") m=\(m) n=\(n) k=\(k) α=\(alpha) \(kernel)"
                        #expect(results[0] == results[1] && results[1] == results[2], "\(name): thread counts disagree")
                        #expect(allSums[0] == allSums[1] && allSums[1] == allSums[2] && !allSums[0].contains { $0.isNaN },
                                "\(name): column sums disagree")
                    }
                }
            }
        }
    }

    /// A non-transposed A is read in place by the 8×32 kernel when a thread's share of C is at
    /// most 512 columns wide and packed when wider: both must give the same bits, so that the
    /// width of a product (or of its split) never changes its values. The first 512 columns of a
    /// 544-column product (packed) against the 512-column product (in place), over two k-blocks,
    /// a partial row tile, padded strides, a bias and beta 1.
    @Test func readingAInPlaceGivesThePackedBits() {
        let m = 45, k = 400, wide = 544, narrow = 512, lda = k + 3, ldb = wide, ldc = wide
        let a = randomValues(m * lda, seed: 1), b = randomValues(k * ldb, seed: 2)
        let c0 = randomValues(m * ldc, seed: 3), bias = randomValues(wide, seed: 4)
        var packed = c0, inPlace = c0
        for (n, out) in [(wide, 0), (narrow, 1)] {
            var c = c0
            c.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 1,
                           c: cp.baseAddress!, ldc: ldc, bias: bias, threads: 1, kernel: .rows8cols32)
            }
            if out == 0 { packed = c } else { inPlace = c }
        }
        for i in 0..<m {
            let row = i * ldc
            #expect(Array(packed[row..<row + narrow]) == Array(inPlace[row..<row + narrow]), "row \(i)")
        }
    }

    @Test func zeroInnerDimensionScalesC() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [0], b: [Float] = [0]
        c.withUnsafeMutableBufferPointer { cp in
            GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, beta: 0.5, c: cp.baseAddress!, ldc: 2)
        }
        #expect(c == [0.5, 1, 1.5, 2])
    }
}
