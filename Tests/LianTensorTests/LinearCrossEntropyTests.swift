import LianKernels
import LianTensor
import LianTestSupport
import Testing

@Suite struct LinearCrossEntropyTests {
    /// The fused head + loss equals cross-entropy of the full logits — value and both gradients —
    /// with ignored rows: the logits kept for the backward pass (the default for 10 M logits) in
    /// one chunk (250 rows) or in three (600 rows: chunks of at least 256), and recomputed there
    /// chunk by chunk (a limit of 0 keeps none; V = 40,000 gives chunks of 104 rows).
    @Test(arguments: [(250, 40_000, Tensor.keptLogitsLimit), (600, 20_000, Tensor.keptLogitsLimit), (250, 40_000, 0)])
    func equalsTheUnfusedLossAndGradients(rows: Int, v: Int, keptLimit: Int) {
        var rng = SeededRandom(seed: 4)
        let c = 8
        var h = Tensor.randomNormal([2, rows / 2, c], rng: &rng); h.requiresGrad = true
        var w = Tensor.randomNormal([v, c], std: 0.5, rng: &rng); w.requiresGrad = true
        let targets = IndexTensor(shape: [2, rows / 2], values: (0..<rows).map { $0 % 7 == 3 ? -100 : Int32(($0 * 7919) % v) })
        let fused = Tensor.linearCrossEntropy(hidden: h, weight: w, targets: targets, keepingLogitsUpTo: keptLimit)
        fused.backward()
        var h2 = h.detached(); h2.requiresGrad = true
        var w2 = w.detached(); w2.requiresGrad = true
        let plain = Tensor.crossEntropy(logits: h2.linear(weight: w2), targets: targets)
        plain.backward()
        #expect(abs(fused.item - plain.item) < 1e-5 * max(1, abs(plain.item)), "\(fused.item) vs \(plain.item)")
        #expect(compare(h.grad!.scalars, h2.grad!.scalars, atol: 1e-6, rtol: 1e-4).0)
        #expect(compare(w.grad!.scalars, w2.grad!.scalars, atol: 1e-7, rtol: 1e-4).0)
        let evaluated = withNoGrad { Tensor.linearCrossEntropy(hidden: h, weight: w, targets: targets, keepingLogitsUpTo: keptLimit) }
        #expect(abs(evaluated.item - plain.item) < 1e-5 * max(1, abs(plain.item)), "no-grad \(evaluated.item) vs \(plain.item)")
    }
}
