import LianKernels
import LianTensor
import LianTestSupport
import Testing

/// Dropout on attention probabilities: seeded and reproducible, and the backward pass agrees
/// with central differences of the forward pass under the same mask (Float, h = 1e-2).
@Suite struct AttentionDropoutTests {
    func attention(_ qkv: Tensor, seed: UInt64?) -> Tensor {
        Tensor.scaledDotProductAttention(packedQKV: qkv, heads: 2, kvHeads: 1,
                                         dropout: seed.map { AttentionDropout(probability: 0.3, seed: $0) })
    }

    @Test func seededAndReproducible() {
        let qkv = Tensor(shape: [2, 70, 16], values: randomValues(2 * 70 * 16, seed: 1))
        let a = attention(qkv, seed: 5).scalars, b = attention(qkv, seed: 5).scalars
        let c = attention(qkv, seed: 6).scalars, plain = attention(qkv, seed: nil).scalars
        #expect(a == b)
        #expect(a != c && a != plain)
    }

    @Test func backwardMatchesFiniteDifferencesUnderTheSameMask() {
        let shape = [1, 70, 16]
        let values = randomValues(70 * 16, seed: 2)
        var qkv = Tensor(shape: shape, values: values)
        qkv.requiresGrad = true
        let w = Tensor(shape: [1, 70, 2, 4], values: randomValues(70 * 8, seed: 3))
        (attention(qkv, seed: 9) * w).sum().backward()
        let g = qkv.grad!.scalars
        func loss(_ x: [Float]) -> Double {
            Double(withNoGrad { (attention(Tensor(shape: shape, values: x), seed: 9) * w).sum().item })
        }
        let h: Float = 1e-2
        var numeric: [Double] = [], analytic: [Float] = []
        for j in stride(from: 0, to: values.count, by: 17) {
            var plus = values, minus = values
            plus[j] += h; minus[j] -= h
            numeric.append((loss(plus) - loss(minus)) / Double(2 * h))
            analytic.append(g[j])
        }
        let (ok, worst) = compare(analytic, numeric, atol: 2e-3, rtol: 1e-2)
        #expect(ok, "attention dropout gradient: \(worst)")
    }
}
