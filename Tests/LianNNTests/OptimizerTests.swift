import Foundation
import LianNN
import LianOptim
import LianTensor
import LianTestSupport
import Testing

@Suite struct OptimizerTests {
    /// A one-parameter "model" for optimizer tests.
    func parameter(_ values: [Float]) -> Parameter { Parameter(Tensor(shape: [values.count], values: values)) }

    @Test func sgdMomentumAndNesterovFollowPyTorchsFormulas() {
        for nesterov in [false, true] {
            let p = parameter([1, -2])
            let sgd = SGD(momentum: 0.9, weightDecay: 0.1, nesterov: nesterov)
            var expected: [Double] = [1, -2]
            var buffer: [Double] = [0, 0]
            let grads: [[Float]] = [[0.5, 0.25], [-1, 2], [0.125, -0.5]]
            for (t, g) in grads.enumerated() {
                p.value.grad = Tensor(shape: [2], values: g)
                sgd.step([("w", p)], learningRate: 0.1)
                for i in 0..<2 {
                    let d = Double(g[i]) + 0.1 * expected[i]
                    buffer[i] = t == 0 ? d : 0.9 * buffer[i] + d
                    expected[i] -= 0.1 * (nesterov ? d + 0.9 * buffer[i] : buffer[i])
                }
            }
            let (ok, worst) = compare(p.value.scalars, expected, atol: 1e-6, rtol: 1e-6)
            #expect(ok, "nesterov \(nesterov): \(worst)")
        }
    }

    @Test func adamWDecaysOnlyWhatItIsTold() {
        let matrix = Parameter(Tensor(shape: [1, 2], values: [1, 1])), bias = parameter([1, 1])
        let adam = AdamW(weightDecay: 0.5)
        for p in [matrix, bias] { p.value.grad = Tensor.zeros(p.shape) }
        adam.step([("m", matrix), ("b", bias)], learningRate: 0.1)
        // A zero gradient leaves only the decay: p·(1 − lr·λ) for the matrix, nothing for the bias.
        #expect(matrix.value.scalars == [0.95, 0.95])
        #expect(bias.value.scalars == [1, 1])
    }

    @Test func clippingScalesToTheMaximumNorm() {
        let a = parameter([3, 0]), b = parameter([0, 4])
        a.value.grad = Tensor(shape: [2], values: [3, 0]); b.value.grad = Tensor(shape: [2], values: [0, 4])
        let norm = clipGradientNorm([("a", a), ("b", b)], maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(gradientNorm([("a", a), ("b", b)]) - 1) < 1e-6)
        // Below the maximum nothing changes.
        #expect(clipGradientNorm([("a", a), ("b", b)], maxNorm: 10) <= 1.000001)
        #expect(abs(a.grad!.scalars[0] - 0.6) < 1e-6)
    }

    /// Reading the gradients with clipping's factor inside the update gives the same bits as
    /// scaling them first (clipGradientNorm, then the step), for AdamW and SGD, clipped and not.
    @Test func clippingFactorInsideTheUpdateEqualsScalingFirst() {
        for maxNorm: Float in [0.3, 100] {
            for makeOptimizer in [{ AdamW(weightDecay: 0.1) as Optimizer }, { SGD(momentum: 0.9, weightDecay: 0.01) as Optimizer }] {
                let grads: [[Float]] = (0..<3).map { randomValues(37, seed: UInt64(10 + $0)) }
                var results: [[Float]] = []
                for fused in [false, true] {
                    let p = parameter(randomValues(37, seed: 5))
                    let optimizer = makeOptimizer()
                    for g in grads {
                        p.value.grad = Tensor(shape: [37], values: g)
                        let norm = gradientNorm([("w", p)])
                        if fused {
                            optimizer.step([("w", p)], learningRate: 0.05, gradientScale: clippingFactor(maxNorm: maxNorm, norm: norm))
                        } else {
                            clipGradientNorm([("w", p)], maxNorm: maxNorm, norm: norm)
                            optimizer.step([("w", p)], learningRate: 0.05)
                        }
                    }
                    results.append(p.value.scalars)
                }
                #expect(results[0] == results[1], "\(type(of: makeOptimizer())) max norm \(maxNorm)")
            }
        }
        #expect(clippingFactor(maxNorm: 1, norm: .nan) == 1 && clippingFactor(maxNorm: 1, norm: 0.5) == 1)
    }

    @Test func schedules() {
        #expect(LearningRateSchedule.constant(0.5).rate(at: 100) == 0.5)
        let cosine = LearningRateSchedule.warmupCosine(peak: 1, warmup: 10, total: 110, floor: 0.1)
        #expect(cosine.rate(at: 0) == 0.1)
        #expect(cosine.rate(at: 9) == 1)
        #expect(abs(cosine.rate(at: 60) - 0.55) < 1e-6)
        #expect(cosine.rate(at: 110) == 0.1 && cosine.rate(at: 500) == 0.1)
        let wsd = LearningRateSchedule.warmupStableDecay(peak: 2, warmup: 4, decayStart: 50, total: 100, floor: 0)
        #expect(wsd.rate(at: 1) == 1 && wsd.rate(at: 49) == 2 && wsd.rate(at: 75) == 1 && wsd.rate(at: 100) == 0)
    }

    /// Saving the optimizer state midway and restoring it into a fresh optimizer continues exactly
    /// as if uninterrupted.
    @Test func stateRoundTripContinuesBitForBit() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-adam-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let grads: [[Float]] = (0..<6).map { randomValues(3, seed: UInt64($0)) }
        func run(interruptAt: Int?) throws -> [Float] {
            let p = parameter([0.1, 0.2, 0.3])
            var adam = AdamW(beta1: 0.8, beta2: 0.9, eps: 1e-6, weightDecay: 0.1, decays: { _, _ in true })
            for (t, g) in grads.enumerated() {
                if t == interruptAt {
                    try adam.saveState(to: url)
                    adam = AdamW(beta1: 0.8, beta2: 0.9, eps: 1e-6, weightDecay: 0.1, decays: { _, _ in true })
                    try adam.loadState(from: url, parameters: [("w", p)])
                    #expect(adam.stepCount == t)
                }
                p.value.grad = Tensor(shape: [3], values: g)
                adam.step([("w", p)], learningRate: 0.01)
            }
            return p.value.scalars
        }
        #expect(try run(interruptAt: 3) == run(interruptAt: nil))
        // State for another model is refused.
        let other = Parameter(Tensor.zeros([4]))
        #expect(throws: SafeTensorsError.self) { try AdamW().loadState(from: url, parameters: [("w", other)]) }
    }
}
