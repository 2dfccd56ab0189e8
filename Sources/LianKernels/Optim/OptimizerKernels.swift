// Parameter updates, elementwise over one tensor, in the order of operations PyTorch's
// single-tensor (CPU) implementations use, so that one step agrees to the last bits.
//
// Both read the gradient as g·s, where s is gradient clipping's factor (1 when not clipping):
// the product PyTorch's clip_grad_norm_ writes into g before the step, without a pass of its own.
//
// AdamW (decoupled weight decay):
//   p ← p·(1 − lr·λ)
//   m ← m + (1 − β1)·(g − m)                 (torch.lerp)
//   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
// SGD (coupled weight decay, momentum μ, dampening 0, optional Nesterov):
//   g ← g + λ·p;  b ← g (first step) or μ·b + g;  d ← g + μ·b (Nesterov) or b;  p ← p − lr·d

import LianKernelsC

public struct AdamWScalars: Sendable {
    /// 1 − lr·λ
    public var decayFactor: Float
    public var beta1: Float, beta2: Float, eps: Float
    /// −lr / (1 − β1ᵗ)
    public var negativeStepSize: Float
    /// √(1 − β2ᵗ)
    public var biasCorrection2Sqrt: Float
    /// The factor the gradient is read with (gradient clipping's; 1 when not clipping).
    public var gradientScale: Float = 1

    /// Scalars for step `t` (1-based), computed in Double as Python computes them.
    public init(learningRate lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double, step t: Int,
                gradientScale: Float = 1) {
        self.gradientScale = gradientScale
        decayFactor = Float(1 - lr * weightDecay)
        self.beta1 = Float(beta1); self.beta2 = Float(beta2); self.eps = Float(eps)
        negativeStepSize = Float(-(lr / (1 - pow(beta1, Double(t)))))
        biasCorrection2Sqrt = Float((1 - pow(beta2, Double(t))).squareRoot())
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum OptimizerKernels {
    /// From this many elements an update splits itself across threads; smaller ones are better
    /// handed to the threads whole, one parameter each.
    public static let parallelThreshold = 2 * 4096 * 16

    /// One AdamW update of n elements, in place on p, m, v.
    public static func adamW(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                             _ v: UnsafeMutablePointer<Float>, _ n: Int, _ s: AdamWScalars) {
        let P = SendablePointer(p), G = SendablePointer(g), M = SendablePointer(m), V = SendablePointer(v)
        parallelChunks((n + 15) / 16, minChunk: parallelThreshold / 32) { vectors in
            let start = vectors.lowerBound * 16, end = min(n, vectors.upperBound * 16)
            let oneMinusBeta1 = SIMD16<Float>(repeating: 1 - s.beta1), oneMinusBeta2 = SIMD16<Float>(repeating: 1 - s.beta2)
            var i = start
            while i < end {
                let w = min(16, end - i)
                var pv = w == 16 ? load16(P.base + i) : loadPartial(P.base + i, w)
                let gv = (w == 16 ? load16(G.base + i) : loadPartial(G.base + i, w)) * s.gradientScale
                var mv = w == 16 ? load16(M.base + i) : loadPartial(M.base + i, w)
                var vv = w == 16 ? load16(V.base + i) : loadPartial(V.base + i, w)
                pv *= s.decayFactor
                mv = mv + oneMinusBeta1 * (gv - mv)
                vv = vv * s.beta2 + oneMinusBeta2 * gv * gv
                let denom = lian_sqrt16(vv) / s.biasCorrection2Sqrt + s.eps
                pv = pv + s.negativeStepSize * (mv / denom)
                if w == 16 {
                    store16(pv, P.base + i); store16(mv, M.base + i); store16(vv, V.base + i)
                } else {
                    storePartial(pv, P.base + i, w); storePartial(mv, M.base + i, w); storePartial(vv, V.base + i, w)
                }
                i += 16
            }
        }
    }

    /// One SGD update of n elements, in place on p and (when momentum ≠ 0) the buffer b.
    public static func sgd(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ b: UnsafeMutablePointer<Float>?,
                           _ n: Int, learningRate lr: Float, momentum mu: Float, weightDecay wd: Float, nesterov: Bool,
                           firstStep: Bool, gradientScale: Float = 1) {
        for i in 0..<n {
            var d = g[i] * gradientScale
            if wd != 0 { d += wd * p[i] }
            if let b, mu != 0 {
                b[i] = firstStep ? d : mu * b[i] + d
                d = nesterov ? d + mu * b[i] : b[i]
            }
            p[i] -= lr * d
        }
    }

    /// Σ x² over n elements, accumulated in Double.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < n {
            let end = min(n, i + 4096)
            var acc = SIMD16<Float>()
            var j = i
            while j + 16 <= end { let v = load16(x + j); acc = acc.addingProduct(v, v); j += 16 }
            var tail: Float = 0
            while j < end { tail += x[j] * x[j]; j += 1 }
            total += Double(acc.sum()) + Double(tail)
            i = end
        }
        return total
    }
}
