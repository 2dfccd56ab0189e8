import LianKernels
import LianTestSupport
import Testing

/// A product with an epilogue (GEMMEpilogue) gives the same bits as the product followed by the
/// separate elementwise kernel, on every path a product can take: the unpacked small path, fixed
/// row and column splits, claimed row blocks, claimed column chunks, halves of k, one to three
/// threads, both micro-kernels; sizes that leave partial vectors, tiles and blocks.
@Suite struct GEMMEpilogueTests {
    enum Kind: CaseIterable { case gelu, geluSavingDerivative, multiply }

    /// (m, n, k) and what each mainly exercises.
    static let shapes = [
        (9, 37, 20),       // small enough for the unpacked path (automatic kernel)
        (521, 40, 800),    // tall: claimed row blocks over three k-blocks
        (20, 1100, 400),   // short and wide: claimed column chunks, two column blocks
        (300, 400, 900),   // op(A) too large to claim columns: fixed column halves
        (40, 50, 2100),    // Aᵀ·B with a long k: summed in halves of k
    ]

    func check(_ kind: Kind, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, threads: Int, kernel: GEMM.MicroKernelShape) {
        let ldc = n + 3
        let lda = transA ? m : k, ldb = transB ? k : n
        let a = randomValues((transA ? k : m) * lda, seed: 21), b = randomValues((transB ? n : k) * ldb, seed: 22)
        let bias = randomValues(n, seed: 23), factor = randomValues(m * ldc, seed: 24)
        var separate = [Float](repeating: 0, count: m * ldc), fused = separate
        var separateD = [Float](repeating: -1, count: m * ldc), fusedD = separateD
        separate.withUnsafeMutableBufferPointer { c in
            GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                       c: c.baseAddress!, ldc: ldc, bias: bias, threads: threads, kernel: kernel)
            separateD.withUnsafeMutableBufferPointer { d in
                for i in 0..<m {
                    let row = c.baseAddress! + i * ldc
                    switch kind {
                    case .gelu: Activations.geluForward(row, row, n)
                    case .geluSavingDerivative: Activations.geluForward(row, row, derivative: d.baseAddress! + i * ldc, n)
                    case .multiply: factor.withUnsafeBufferPointer { f in
                        Activations.geluBackward(savedDerivative: f.baseAddress! + i * ldc, row, row, n)
                    }
                    }
                }
            }
        }
        fused.withUnsafeMutableBufferPointer { c in
            fusedD.withUnsafeMutableBufferPointer { d in
                factor.withUnsafeBufferPointer { f in
                    let epilogue: GEMMEpilogue
                    switch kind {
                    case .gelu: epilogue = .gelu
                    case .geluSavingDerivative: epilogue = .geluSavingDerivative(into: d.baseAddress!, ld: ldc)
                    case .multiply: epilogue = .multiply(by: f.baseAddress!, ld: ldc)
                    }
                    GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                               c: c.baseAddress!, ldc: ldc, bias: bias, epilogue: epilogue, threads: threads, kernel: kernel)
                }
            }
        }
        let name = "\(kind) \(transA ? "T" : "N")\(transB ? "T" : "N") m=\(m) n=\(n) k=\(k) \(threads) threads \(kernel)"
        let cDifference = firstBitDifference(fused, separate), dDifference = firstBitDifference(fusedD, separateD)
        #expect(cDifference == nil, "\(name): C differs at \(cDifference ?? "")")
        #expect(dDifference == nil, "\(name): the saved derivative differs at \(dDifference ?? "")")
    }

    @Test(arguments: Kind.allCases)
    func sameBitsAsTheSeparatePass(kind: Kind) {
        for kernel in [GEMM.MicroKernelShape.automatic, .rows6cols16, .rows8cols32] {
            for (m, n, k) in Self.shapes {
                for (ta, tb) in [(false, false), (false, true), (true, false)] {
                    for threads in [1, 2, 3] {
                        check(kind, transA: ta, transB: tb, m: m, n: n, k: k, threads: threads, kernel: kernel)
                    }
                }
            }
        }
    }
}
