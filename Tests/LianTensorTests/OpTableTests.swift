import LianKernels
import LianTensor
import LianTestSupport
import Testing

/// Every op of the table: forward against the naive Double reference, and backward against
/// central finite differences of that reference (in Double), on odd shapes.
@Suite struct OpTableTests {
    func inputs(_ op: OpCase) -> [[Float]] {
        op.shapes.enumerated().map { i, shape in
            randomValues(shape.reduce(1, *), seed: UInt64(100 + i), low: op.low, high: op.high)
        }
    }

    @Test(arguments: OpTable.cases)
    func forwardMatchesReference(_ op: OpCase) {
        let x = inputs(op)
        let y = op.forward(zip(op.shapes, x).map { Tensor(shape: $0, values: $1) })
        let expected = op.reference(x.map { $0.map(Double.init) })
        #expect(y.count == expected.count, "\(op.name): \(y.count) outputs, reference has \(expected.count)")
        guard y.count == expected.count else { return }
        let (ok, worst) = compare(y.scalars, expected, atol: 2e-6, rtol: 2e-5)
        #expect(ok, "\(op.name) forward: \(worst)")
    }

    @Test(arguments: OpTable.cases)
    func backwardMatchesFiniteDifferences(_ op: OpCase) {
        let x = inputs(op)
        var tensors = zip(op.shapes, x).map { Tensor(shape: $0, values: $1) }
        for i in tensors.indices { tensors[i].requiresGrad = true }
        let y = op.forward(tensors)
        // loss = Σ y ⊙ w for fixed random weights w: its gradient is the op's vector-Jacobian product.
        let w = randomValues(y.count, seed: 7)
        let loss = (y * Tensor(shape: y.shape, values: w)).sum()
        loss.backward()

        let xd = x.map { $0.map(Double.init) }
        let wd = w.map(Double.init)
        func referenceLoss(_ inputs: [[Double]]) -> Double {
            zip(op.reference(inputs), wd).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let h = 1e-3
        for i in op.differentiable ?? Array(op.shapes.indices) {
            guard let grad = tensors[i].grad else {
                Issue.record("\(op.name): input \(i) got no gradient"); continue
            }
            #expect(grad.shape == op.shapes[i], "\(op.name): gradient shape \(grad.shape) for input \(op.shapes[i])")
            let g = grad.scalars
            // At most 64 elements per input, spread over it.
            let n = x[i].count
            let picks = n <= 64 ? Array(0..<n) : (0..<64).map { $0 * n / 64 }
            var numeric: [Double] = [], analytic: [Float] = []
            for j in picks {
                var plus = xd, minus = xd
                plus[i][j] += h; minus[i][j] -= h
                numeric.append((referenceLoss(plus) - referenceLoss(minus)) / (2 * h))
                analytic.append(g[j])
            }
            let (ok, worst) = compare(analytic, numeric, atol: 1e-4, rtol: 1e-3)
            #expect(ok, "\(op.name) gradient of input \(i): \(worst)")
        }
    }
}
