import LianKernels
@testable import LianTensor
import LianTestSupport
import Testing

@Suite struct AutogradTests {
    func parameter(_ shape: [Int], seed: UInt64) -> Tensor {
        var t = Tensor(shape: shape, values: randomValues(shape.reduce(1, *), seed: seed))
        t.requiresGrad = true
        return t
    }

    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let w = parameter([4], seed: 1)
        (w * 3).sum().backward()
        (w * 2).sum().backward()
        #expect(w.grad?.scalars == [5, 5, 5, 5])
        w.zeroGrad()
        #expect(w.grad == nil)
        (w * 2).sum().backward()
        #expect(w.grad?.scalars == [2, 2, 2, 2])
    }

    @Test func aTensorUsedTwiceGetsTheSumOfBothGradients() {
        let x = parameter([5], seed: 2)
        (x * x + x).sum().backward()
        let expected = x.scalars.map { 2 * $0 + 1 }
        let (ok, worst) = compare(x.grad!.scalars, expected, atol: 1e-6, rtol: 1e-6)
        #expect(ok, "\(worst)")
    }

    @Test func noGradScopeRecordsNothing() {
        let w = parameter([3], seed: 3)
        let y = withNoGrad { (w * 2).sum() }
        #expect(!y.requiresGrad)
        #expect(GradMode.isEnabled)
    }

    @Test func frozenParametersGetNoGradient() {
        var frozen = parameter([3], seed: 4)
        frozen.requiresGrad = false
        let trained = parameter([3], seed: 5)
        (frozen * trained).sum().backward()
        #expect(frozen.grad == nil)
        #expect(trained.grad?.scalars == frozen.scalars)
    }

    @Test func deepChainsDoNotOverflowTheStack() {
        let x = parameter([2], seed: 6)
        var y = x
        for _ in 0..<20_000 { y = y.scaled(by: 1) }
        y.sum().backward()
        #expect(x.grad?.scalars == [1, 1])
    }

    @Test func copiesShareMemoryUntilWritten() {
        let a = Tensor(shape: [3], values: [1, 2, 3])
        var b = a
        b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [9, 2, 3])
        // A view (reshape) written to leaves its source alone.
        var v = a.reshaped(to: [3, 1])
        v.withUnsafeMutableBufferPointer { $0[2] = 7 }
        #expect(a.scalars == [1, 2, 3] && v.scalars == [1, 2, 7])
    }

    @Test func dropoutIsSeededScaledAndMasksTheGradient() {
        let x = parameter([1000], seed: 7)
        var rng1 = SeededRandom(seed: 42), rng2 = SeededRandom(seed: 42)
        let y1 = x.dropout(probability: 0.25, rng: &rng1)
        let y2 = withNoGrad { x.dropout(probability: 0.25, rng: &rng2) }
        #expect(y1.scalars == y2.scalars, "same seed, same mask")
        let kept = zip(y1.scalars, x.scalars).filter { $0.0 != 0 }
        #expect(kept.allSatisfy { abs($0.0 - $0.1 / 0.75) <= 1e-6 * abs($0.1) + 1e-7 })
        #expect((700...800).contains(kept.count), "kept \(kept.count) of 1000 at p = 0.25")
        y1.sum().backward()
        let g = x.grad!.scalars
        for (gi, yi) in zip(g, y1.scalars) { #expect(yi == 0 ? gi == 0 : abs(gi - 1 / 0.75) < 1e-6) }
    }

    @Test func seededRandomIsReproducibleAndNormal() {
        var a = SeededRandom(seed: 1), b = SeededRandom(seed: 1)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var rng = SeededRandom(seed: 2)
        let t = Tensor.randomNormal([100_000], mean: 1, std: 2, rng: &rng)
        let mean = t.mean().item
        let variance = ((t - 1) * (t - 1)).mean().item
        #expect(abs(mean - 1) < 0.03 && abs(variance - 4) < 0.08, "mean \(mean), variance \(variance)")
    }

    /// The graph keeps what a backward pass needs and nothing more: a pullback that captured a
    /// whole input (for its shape, say) would keep every residual-stream tensor of a model alive
    /// until the backward pass — found as QLoRA holding 130 MB more than `lian plan` counted.
    @Test func pullbacksKeepOnlyWhatTheBackwardPassNeeds() {
        let p = parameter([4, 64], seed: 9)
        var frozen = Tensor(shape: [64, 64], values: randomValues(64 * 64, seed: 10))
        frozen.requiresGrad = false
        let nf4 = frozen.withUnsafeBufferPointer { NF4Matrix(quantizing: $0, rows: 64, columns: 64) }
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("add", { $0 + p }), ("subtract", { p - $0 }), ("broadcast add", { $0 + p.sum(axis: 0) }),
            ("frozen linear", { $0.linear(weight: frozen) }),
            ("NF4 linear", { $0.linear(nf4Weight: nf4, inputMajor: false) }),
        ]
        for (name, op) in ops {
            weak var storage: TensorStorage?
            let out: Tensor = {
                let intermediate = p.scaled(by: 2)        // its own pullback keeps nothing
                storage = intermediate.storage
                return op(intermediate)
            }()
            #expect(storage == nil, "\(name) keeps its input alive")
            out.sum().backward()
        }
    }
}
