import Foundation
import LianKernels
import LianTestSupport
import Testing

/// The vector exp and tanh against libm in Double, over the range that matters and the edges.
@Suite struct SIMDMathTests {
    func apply(_ f: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { f(xp.baseAddress!, $0.baseAddress!, x.count) } }
        return y
    }

    @Test func expMatchesLibm() {
        let x = (0..<20_001).map { Float(-87 + 175 * Double($0) / 20_000) }
        let y = apply(Activations.exp, x)
        let (ok, worst) = compare(y, x.map { Foundation.exp(Double($0)) }, atol: 0, rtol: 3e-7)
        #expect(ok, "exp: \(worst)")
    }

    @Test func expEdges() {
        let y = apply(Activations.exp, [-.infinity, -1000, -88, 0, 89, .infinity, .nan])
        #expect(y[0] == 0 && y[1] == 0 && y[2] == 0)
        #expect(y[3] == 1)
        #expect(y[4] == .infinity && y[5] == .infinity)
        #expect(y[6].isNaN)
    }

    @Test func tanhMatchesLibm() {
        let x = (0..<4001).map { Float(-20 + 40 * Double($0) / 4000) }
        let y = apply(Activations.tanh, x)
        let (ok, worst) = compare(y, x.map { Foundation.tanh(Double($0)) }, atol: 2e-7, rtol: 1e-6)
        #expect(ok, "tanh: \(worst)")
    }
}
