// Scaled dot-product attention, causal or not, with grouped-query heads; forward and backward.
//
// B = batch, T = time, H = query heads, G = key/value heads (H % G == 0; G == H is plain MHA),
// D = head size. Layout (what a projection produces, so no transposes are needed):
//   q, out: [B, T, H, D]     k, v: [B, T, G, D]     probs (saved): [B, H, T, T]
// Query head h reads key/value head h / (H / G).
//
// Per (b, h):  S = scale · Q Kᵀ,  P = softmax(S) (row i sees columns 0...i when causal),  O = P V
// Backward:    dP = dO Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//              dQ = scale · dS K,  dK += scale · dSᵀ Q,  dV += Pᵀ dO
// Each (b, h) is independent in the forward pass; in the backward pass heads that share a
// key/value head write the same dK/dV, so work is split by (b, g) instead.

public struct AttentionShape: Sendable, Equatable {
    public var batch: Int, time: Int, heads: Int, kvHeads: Int, headSize: Int
    public init(batch: Int, time: Int, heads: Int, kvHeads: Int, headSize: Int) {
        precondition(heads % kvHeads == 0, "[attention] \(heads) query heads are not a multiple of \(kvHeads) key/value heads")
        self.batch = batch; self.time = time; self.heads = heads; self.kvHeads = kvHeads; self.headSize = headSize
    }
    var group: Int { heads / kvHeads }
}

public enum Attention {
    /// Forward pass. Writes `out` [B, T, H, D] and `probs` [B, H, T, T] (zeros above the diagonal
    /// when causal).
    public static func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
        shape s: AttentionShape, scale: Float, causal: Bool
    ) {
        let T = s.time, D = s.headSize, H = s.heads, G = s.kvHeads
        let Q = SendablePointer(q), K = SendablePointer(k), V = SendablePointer(v)
        let O = SendablePointer(out), P = SendablePointer(probs)
        parallelFor(s.batch * H) { task in
            let b = task / H, h = task % H, g = h / s.group
            let qbh = Q.base + b * T * H * D + h * D
            let kbg = K.base + b * T * G * D + g * D
            let vbg = V.base + b * T * G * D + g * D
            let pbh = P.base + (b * H + h) * T * T
            GEMM.sgemm(transA: false, transB: true, m: T, n: T, k: D, alpha: scale,
                       a: qbh, lda: H * D, b: kbg, ldb: G * D, beta: 0, c: pbh, ldc: T, threads: 1)
            for i in 0..<T {
                let row = pbh + i * T
                let visible = causal ? i + 1 : T
                Softmax.row(row, row, visible)
                if visible < T { (row + visible).update(repeating: 0, count: T - visible) }
            }
            GEMM.sgemm(transA: false, transB: false, m: T, n: D, k: T, alpha: 1,
                       a: pbh, lda: T, b: vbg, ldb: G * D, beta: 0, c: O.base + b * T * H * D + h * D, ldc: H * D,
                       threads: 1)
        }
    }

    /// Backward pass. Writes dq [B, T, H, D], dk and dv [B, T, G, D] (overwriting them).
    public static func backward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs: UnsafePointer<Float>,
        dOut: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
        dv: UnsafeMutablePointer<Float>, shape s: AttentionShape, scale: Float, causal: Bool
    ) {
        let T = s.time, D = s.headSize, H = s.heads, G = s.kvHeads
        let Q = SendablePointer(q), K = SendablePointer(k), V = SendablePointer(v), P = SendablePointer(probs)
        let DO = SendablePointer(dOut), DQ = SendablePointer(dq), DK = SendablePointer(dk), DV = SendablePointer(dv)
        parallelFor(s.batch * G) { task in
            let b = task / G, g = task % G
            let kbg = K.base + b * T * G * D + g * D, vbg = V.base + b * T * G * D + g * D
            let dkbg = DK.base + b * T * G * D + g * D, dvbg = DV.base + b * T * G * D + g * D
            for t in 0..<T {
                (dkbg + t * G * D).update(repeating: 0, count: D)
                (dvbg + t * G * D).update(repeating: 0, count: D)
            }
            let dS = allocateFloats(T * T)
            defer { dS.deallocate() }
            for h in (g * s.group)..<((g + 1) * s.group) {
                let qbh = Q.base + b * T * H * D + h * D, dobh = DO.base + b * T * H * D + h * D
                let dqbh = DQ.base + b * T * H * D + h * D
                let pbh = P.base + (b * H + h) * T * T
                // dV += Pᵀ dO
                GEMM.sgemm(transA: true, transB: false, m: T, n: D, k: T, a: pbh, lda: T, b: dobh, ldb: H * D,
                           beta: 1, c: dvbg, ldc: G * D, threads: 1)
                // dP = dO Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) row by row.
                GEMM.sgemm(transA: false, transB: true, m: T, n: T, k: D, a: dobh, lda: H * D, b: vbg, ldb: G * D,
                           beta: 0, c: dS, ldc: T, threads: 1)
                for i in 0..<T {
                    let visible = causal ? i + 1 : T
                    Softmax.rowBackward(pbh + i * T, dS + i * T, dS + i * T, visible)
                    if visible < T { (dS + i * T + visible).update(repeating: 0, count: T - visible) }
                }
                // dQ = scale · dS K;  dK += scale · dSᵀ Q
                GEMM.sgemm(transA: false, transB: false, m: T, n: D, k: T, alpha: scale, a: dS, lda: T,
                           b: kbg, ldb: G * D, beta: 0, c: dqbh, ldc: H * D, threads: 1)
                GEMM.sgemm(transA: true, transB: false, m: T, n: D, k: T, alpha: scale, a: dS, lda: T,
                           b: qbh, ldb: H * D, beta: 1, c: dkbg, ldc: G * D, threads: 1)
            }
        }
    }

    /// The naive forward: explicit loops over every (b, h, i, j), in any precision.
    public static func reference<F: ReferenceScalar>(q: [F], k: [F], v: [F], shape s: AttentionShape,
                                                     scale: F, causal: Bool) -> [F] {
        let T = s.time, D = s.headSize, H = s.heads, G = s.kvHeads
        var out = [F](repeating: 0, count: s.batch * T * H * D)
        for b in 0..<s.batch {
            for h in 0..<H {
                let g = h / s.group
                for i in 0..<T {
                    var scores = [F]()
                    let visible = causal ? i + 1 : T
                    for j in 0..<visible {
                        var dot: F = 0
                        for d in 0..<D { dot += q[((b * T + i) * H + h) * D + d] * k[((b * T + j) * G + g) * D + d] }
                        scores.append(dot * scale)
                    }
                    let m = scores.max()!
                    let e = scores.map { F.exp($0 - m) }
                    let sum = e.reduce(0, +)
                    for d in 0..<D {
                        var acc: F = 0
                        for j in 0..<visible { acc += e[j] / sum * v[((b * T + j) * G + g) * D + d] }
                        out[((b * T + i) * H + h) * D + d] = acc
                    }
                }
            }
        }
        return out
    }
}
