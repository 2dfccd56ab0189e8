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

    /// The exp for x ≤ 0 that softmax and cross-entropy use gives simdExp's bits: across the range,
    /// past its lower end, at −0 and −inf; NaN stays NaN.
    @Test func expOfNonPositiveMatchesSimdExp() {
        var x = (0..<20_000).map { Float(-100 * Double($0) / 19_999) }
        x += [-.infinity, -0.0, 0, -87.33654, -87.33655, -87.3365, -Float.leastNonzeroMagnitude, -1e-30, .nan]
        while x.count % 16 != 0 { x.append(-1) }
        for start in stride(from: 0, to: x.count, by: 16) {
            let v = SIMD16<Float>(x[start..<(start + 16)])
            let fast = expOfNonPositive(v), reference = simdExp(v)
            for l in 0..<16 {
                if v[l].isNaN { #expect(fast[l].isNaN); continue }
                #expect(fast[l].bitPattern == reference[l].bitPattern, "e^\(v[l]): \(fast[l]) against \(reference[l])")
            }
        }
    }

    /// The four-chain row maximum against the plain one, for every length up to 130 and a row of −inf.
    @Test func maximumOfRowMatchesMax() {
        let x = randomValues(130, seed: 7, low: -50, high: 50)
        x.withUnsafeBufferPointer { p in
            for n in 1...130 { #expect(maximumOfRow(p.baseAddress!, n) == x[..<n].max()!, "n = \(n)") }
            #expect(maximumOfRow(p.baseAddress!, 0) == -.infinity)
        }
        let masked = [Float](repeating: -.infinity, count: 37)
        masked.withUnsafeBufferPointer { #expect(maximumOfRow($0.baseAddress!, 37) == -.infinity) }
    }

    @Test func tanhMatchesLibm() {
        let x = (0..<4001).map { Float(-20 + 40 * Double($0) / 4000) }
        let y = apply(Activations.tanh, x)
        let (ok, worst) = compare(y, x.map { Foundation.tanh(Double($0)) }, atol: 2e-7, rtol: 1e-6)
        #expect(ok, "tanh: \(worst)")
    }

    /// 1/x without a division (estimate and Newton step): within an ulp of the quotient.
    @Test func reciprocalMatchesDivision() {
        var x: [Float] = (0..<20_001).map { Float(pow(10, -30 + 60 * Double($0) / 20_000)) }
        x += x.map { -$0 } + [1, -1, 3, 7, 1.5, .nan]
        for start in stride(from: 0, to: x.count, by: 16) {
            var v = SIMD16<Float>(repeating: 1)
            for l in 0..<min(16, x.count - start) { v[l] = x[start + l] }
            let r = simdReciprocal(v)
            for l in 0..<min(16, x.count - start) {
                let q = 1 / v[l]
                if q.isNaN { #expect(r[l].isNaN); continue }
                #expect(abs(r[l] - q) <= q.ulp.magnitude, "1/\(v[l]): \(r[l]) against \(q)")
            }
        }
    }

    /// GELU and its derivative (tanh form) against the formula in Double, over the whole range
    /// a pre-activation takes and past both ends of the clamped exp, and at the edges.
    @Test func geluMatchesDouble() {
        let x = (0..<24_001).map { Float(-30 + 60 * Double($0) / 24_000) } + [0, 1e-20, -1e-20, 1e-3, -1e-3]
        let c = 0.797_884_560_802_865_4
        func tanhOfU(_ v: Double) -> Double { Foundation.tanh(c * (v + 0.044715 * v * v * v)) }
        let value = x.map { v -> Double in let v = Double(v); return 0.5 * v * (1 + tanhOfU(v)) }
        let derivative = x.map { v -> Double in
            let v = Double(v), t = tanhOfU(v)
            return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v)
        }
        let y = apply(Activations.geluForward, x)
        let ones = [Float](repeating: 1, count: x.count)
        var d = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in ones.withUnsafeBufferPointer { op in
            d.withUnsafeMutableBufferPointer { Activations.geluBackward(xp.baseAddress!, op.baseAddress!, $0.baseAddress!, x.count) }
        } }
        let (valueOK, worstValue) = compare(y, value, atol: 1e-7, rtol: 1e-6)
        #expect(valueOK, "GELU: \(worstValue)")
        let (derivativeOK, worstDerivative) = compare(d, derivative, atol: 1e-7, rtol: 1e-6)
        #expect(derivativeOK, "GELU′: \(worstDerivative)")
        let edges = apply(Activations.geluForward, [.nan, .infinity, -1000, 1000])
        #expect(edges[0].isNaN && edges[1] == .infinity && edges[3] == 1000)
        #expect(abs(edges[2]) < 1e-30)
    }
}

/// GELU with its derivative saved for the backward: the same outputs, bit for bit, as the
/// forward alone and as the backward that recomputes the derivative.
@Suite struct GELUSavedDerivativeTests {
    @Test func matchesTheSeparateKernels() {
        let x = (0..<1_000).map { Float(-12 + 24 * Double($0) / 999) } + [0, -0.0, 40, -40, 1e-20]
        let n = x.count
        var y = [Float](repeating: 0, count: n), d = y, yPlain = y, dPlain = y, dx = y
        let ones = [Float](repeating: 1, count: n), dy = randomValues(n, seed: 9)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in d.withUnsafeMutableBufferPointer { dp in
                Activations.geluForward(xp.baseAddress!, yp.baseAddress!, derivative: dp.baseAddress!, n)
            } }
            yPlain.withUnsafeMutableBufferPointer { Activations.geluForward(xp.baseAddress!, $0.baseAddress!, n) }
            ones.withUnsafeBufferPointer { op in
                dPlain.withUnsafeMutableBufferPointer { Activations.geluBackward(xp.baseAddress!, op.baseAddress!, $0.baseAddress!, n) }
            }
        }
        #expect(y == yPlain)
        #expect(d == dPlain)
        var dxPlain = dx
        d.withUnsafeBufferPointer { dp in dy.withUnsafeBufferPointer { gp in
            dx.withUnsafeMutableBufferPointer { Activations.geluBackward(savedDerivative: dp.baseAddress!, gp.baseAddress!, $0.baseAddress!, n) }
        } }
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { gp in
            dxPlain.withUnsafeMutableBufferPointer { Activations.geluBackward(xp.baseAddress!, gp.baseAddress!, $0.baseAddress!, n) }
        } }
        #expect(dx == dxPlain)
    }
}
