import LianKernels
@testable import LianTensor
import LianTestSupport
import Testing

/// The fused MLP (geluFeedForward: GELU applied by the products' epilogues) against the three ops
/// it replaces, linear → gelu → linear: the same bits forward and in every gradient, with and
/// without biases, with frozen weights (LoRA's case: only dx is asked for), and without
/// recording. Shapes large enough for the multi-threaded product paths, and a small one.
@Suite struct FeedForwardTests {
    func tensor(_ shape: [Int], seed: UInt64, grad: Bool) -> Tensor {
        var t = Tensor(shape: shape, values: randomValues(shape.reduce(1, *), seed: seed, low: -0.5, high: 0.5))
        t.requiresGrad = grad
        return t
    }

    @Test(arguments: [([2, 3, 7], 11, 6), ([4, 150, 40], 160, 40), ([600, 24], 96, 24)])
    func sameBitsAsLinearGELULinear(leading: [Int], hidden: Int, outF: Int) {
        let inF = leading.last!, rows = leading.dropLast().reduce(1, *)
        for (biases, frozen) in [(true, false), (false, false), (true, true)] {
            let x = tensor(leading, seed: 1, grad: true)
            let w1 = tensor([inF, hidden], seed: 2, grad: !frozen), w2 = tensor([hidden, outF], seed: 4, grad: !frozen)
            let b1 = biases ? tensor([hidden], seed: 3, grad: !frozen) : nil
            let b2 = biases ? tensor([outF], seed: 5, grad: !frozen) : nil
            let dy = randomValues(rows * outF, seed: 6)
            func run(_ fused: Bool) -> (y: [Float], grads: [[Float]?]) {
                for t in [x, w1, w2] + [b1, b2].compactMap({ $0 }) { t.zeroGrad() }
                let y = fused ? x.geluFeedForward(inputMajorWeight: w1, bias: b1, outputWeight: w2, outputBias: b2)
                    : x.linear(inputMajorWeight: w1, bias: b1).gelu().linear(inputMajorWeight: w2, bias: b2)
                (y * Tensor(shape: y.shape, values: dy)).sum().backward()
                return (y.scalars, [x, w1, w2, b1, b2].map { $0?.grad?.scalars })
            }
            let name = "\(leading)→\(hidden)→\(outF) biases \(biases) frozen \(frozen)"
            let (fusedY, fusedGrads) = run(true), (plainY, plainGrads) = run(false)
            let outputDifference = firstBitDifference(fusedY, plainY)
            #expect(outputDifference == nil, "\(name): output differs at \(outputDifference ?? "")")
            for (i, (f, p)) in zip(fusedGrads, plainGrads).enumerated() {
                let difference = (f == nil) == (p == nil) ? firstBitDifference(f ?? [], p ?? []) : "one of the two has none"
                #expect(difference == nil, "\(name): gradient of input \(i) differs at \(difference ?? "")")
            }
            #expect(fusedGrads[0] != nil && (frozen ? fusedGrads[1] == nil : fusedGrads[1] != nil), "\(name): which gradients exist")
            let noGrad = withNoGrad { x.geluFeedForward(inputMajorWeight: w1, bias: b1, outputWeight: w2, outputBias: b2) }
            let noGradDifference = firstBitDifference(noGrad.scalars, plainY)
            #expect(noGradDifference == nil && !noGrad.requiresGrad, "\(name): without recording, \(noGradDifference ?? "")")
        }
    }
}
