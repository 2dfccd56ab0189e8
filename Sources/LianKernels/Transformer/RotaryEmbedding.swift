// Rotary position embedding, in the half-split form transformers uses (`rotate_half`).
//
// x: [B, T, H, D], D even, positions p_t. For i < D/2, with θ_i = base^(−2i/D) and a = p_t·θ_i:
//   y[i]       = x[i]·cos a − x[i + D/2]·sin a
//   y[i + D/2] = x[i + D/2]·cos a + x[i]·sin a
// The backward pass is the inverse rotation (angle −a) applied to dy.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum RotaryEmbedding {
    /// cos and sin tables [T, D/2] for positions `start..<start+T`. The inverse frequencies and the
    /// angles are Float, as transformers computes them; cos and sin are then correctly rounded.
    public static func tables(positions: Range<Int>, headSize: Int, base: Float) -> (cos: [Float], sin: [Float]) {
        precondition(headSize % 2 == 0, "[rope] head size \(headSize) is odd")
        let half = headSize / 2
        let invFreq = (0..<half).map { i in 1 / powf(base, Float(2 * i) / Float(headSize)) }
        var c = [Float](), s = [Float]()
        c.reserveCapacity(positions.count * half); s.reserveCapacity(positions.count * half)
        for p in positions {
            for i in 0..<half {
                let angle = Double(Float(p) * invFreq[i])
                c.append(Float(cos(angle))); s.append(Float(sin(angle)))
            }
        }
        return (c, s)
    }

    /// y = rotate(x) (or the inverse rotation when `inverse`, which is the backward pass).
    /// `x` and `y` may alias. cos/sin: [T, D/2].
    public static func apply(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
        batch: Int, time: Int, heads: Int, headSize: Int, inverse: Bool
    ) {
        let half = headSize / 2
        let X = SendablePointer(x), Y = SendablePointer(y), C = SendablePointer(cos), S = SendablePointer(sin)
        let sign: Float = inverse ? -1 : 1
        parallelChunks(batch * time, minChunk: max(1, elementwiseGrain / max(1, heads * headSize))) { range in
            for bt in range {
                let t = bt % time
                let ct = C.base + t * half, st = S.base + t * half
                for h in 0..<heads {
                    let xr = X.base + (bt * heads + h) * headSize, yr = Y.base + (bt * heads + h) * headSize
                    var i = 0
                    while i < half {
                        let w = min(16, half - i)
                        let x1 = w == 16 ? load16(xr + i) : loadPartial(xr + i, w)
                        let x2 = w == 16 ? load16(xr + half + i) : loadPartial(xr + half + i, w)
                        let cv = w == 16 ? load16(ct + i) : loadPartial(ct + i, w)
                        let sv = sign * (w == 16 ? load16(st + i) : loadPartial(st + i, w))
                        let y1 = x1 * cv - x2 * sv, y2 = x2 * cv + x1 * sv
                        if w == 16 { store16(y1, yr + i); store16(y2, yr + half + i) } else {
                            storePartial(y1, yr + i, w); storePartial(y2, yr + half + i, w)
                        }
                        i += 16
                    }
                }
            }
        }
    }

    /// The naive rotation, angles computed directly in the reference precision.
    public static func reference<F: ReferenceScalar>(_ x: [F], batch: Int, time: Int, heads: Int, headSize: Int,
                                                     base: F, start: Int = 0) -> [F] {
        let half = headSize / 2
        var y = x
        for b in 0..<batch {
            for t in 0..<time {
                for h in 0..<heads {
                    let o = ((b * time + t) * heads + h) * headSize
                    for i in 0..<half {
                        let a = F(start + t) / F.pow(base, F(2 * i) / F(headSize))
                        let x1 = x[o + i], x2 = x[o + half + i]
                        y[o + i] = x1 * F.cos(a) - x2 * F.sin(a)
                        y[o + half + i] = x2 * F.cos(a) + x1 * F.sin(a)
                    }
                }
            }
        }
        return y
    }
}
