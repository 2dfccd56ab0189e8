import LianKernels
import LianTestSupport
import Testing

/// The timing backend forwards every call unchanged and counts it under its kernel (products
/// by shape and transposition).
@Suite struct ProfilingBackendTests {
    @Test func forwardsAndCounts() {
        let profiler = ProfilingBackend(wrapping: CPUBackend())
        let a = randomValues(6 * 4, seed: 1), b = randomValues(4 * 5, seed: 2)
        var viaProfiler = [Float](repeating: 0, count: 30), direct = viaProfiler
        for _ in 0..<3 {
            viaProfiler.withUnsafeMutableBufferPointer { c in
                profiler.sgemm(transA: false, transB: false, m: 6, n: 5, k: 4, a: a, lda: 4, b: b, ldb: 5, c: c.baseAddress!, ldc: 5)
            }
        }
        direct.withUnsafeMutableBufferPointer { c in
            CPUBackend().sgemm(transA: false, transB: false, m: 6, n: 5, k: 4, a: a, lda: 4, b: b, ldb: 5, c: c.baseAddress!, ldc: 5)
        }
        #expect(viaProfiler == direct)
        var y = [Float](repeating: 0, count: 4)
        y.withUnsafeMutableBufferPointer { profiler.geluForward([0, 1, -1, 2], $0.baseAddress!, 4) }
        let entries = profiler.entries()
        let product = entries.first { $0.kernel == "sgemm 6×4×5 A·B" }
        #expect(product?.calls == 3 && product?.flops == 3 * 2 * 6 * 5 * 4)
        #expect(entries.first { $0.kernel == "gelu forward" }?.calls == 1)
        profiler.reset()
        #expect(profiler.entries().isEmpty)
    }
}
