import LianKernels
import LianTensor

/// One row of the op table: how to run an op on tensors, and how to compute it naively in Double.
struct OpCase: CustomStringConvertible, Sendable {
    let name: String
    let shapes: [[Int]]
    var low: Float = -1
    var high: Float = 1
    /// Inputs whose gradient is checked (default: all).
    var differentiable: [Int]?
    let forward: @Sendable ([Tensor]) -> Tensor
    let reference: @Sendable ([[Double]]) -> [Double]

    var description: String { name }
}

// Fixed integer inputs (token ids, targets) for the ops that take them.
let tokenIDs = IndexTensor(shape: [3, 5], values: [0, 3, 10, 3, 7, 1, 1, 2, 9, 10, 4, 0, 6, 5, 3])
let targetIDs = IndexTensor(shape: [3, 5], values: [2, -100, 10, 3, 0, 1, 6, -100, 9, 4, 10, 0, 5, 5, 3])

enum OpTable {
    static let cases: [OpCase] = shapeCases + arithmeticCases + reductionCases + productCases + fusedCases

    static let arithmeticCases: [OpCase] = [
        OpCase(name: "add same shape", shapes: [[3, 5, 7], [3, 5, 7]], forward: { $0[0] + $0[1] },
               reference: { Ref.broadcast($0[0], [3, 5, 7], $0[1], [3, 5, 7], +) }),
        OpCase(name: "add broadcast row", shapes: [[3, 5, 7], [7]], forward: { $0[0] + $0[1] },
               reference: { Ref.broadcast($0[0], [3, 5, 7], $0[1], [7], +) }),
        OpCase(name: "subtract broadcast middle", shapes: [[3, 5, 7], [3, 1, 7]], forward: { $0[0] - $0[1] },
               reference: { Ref.broadcast($0[0], [3, 5, 7], $0[1], [3, 1, 7], -) }),
        OpCase(name: "multiply broadcast column", shapes: [[3, 5, 1], [5, 7]], forward: { $0[0] * $0[1] },
               reference: { Ref.broadcast($0[0], [3, 5, 1], $0[1], [5, 7], *) }),
        OpCase(name: "divide", shapes: [[3, 5, 7], [5, 7]], low: 0.5, high: 2, forward: { $0[0] / $0[1] },
               reference: { Ref.broadcast($0[0], [3, 5, 7], $0[1], [5, 7], /) }),
        OpCase(name: "divide by scalar tensor", shapes: [[13], []], low: 0.5, high: 2, forward: { $0[0] / $0[1] },
               reference: { Ref.broadcast($0[0], [13], $0[1], [], /) }),
        OpCase(name: "scale and negate", shapes: [[3, 5, 7]], forward: { -$0[0].scaled(by: 2.5) }, reference: { x in x[0].map { v in -2.5 * v } }),
        OpCase(name: "exp", shapes: [[3, 5, 7]], low: -5, high: 5, forward: { $0[0].exp() }, reference: { x in x[0].map { v in Double.exp(v) } }),
    ]

    static let shapeCases: [OpCase] = [
        OpCase(name: "reshape", shapes: [[3, 5, 7]], forward: { $0[0].reshaped(to: [15, -1]).scaled(by: 1) }, reference: { $0[0] }),
        OpCase(name: "transpose", shapes: [[3, 5, 7]], forward: { $0[0].transposed() }, reference: { Ref.permute($0[0], [3, 5, 7], [0, 2, 1]) }),
        OpCase(name: "permute", shapes: [[3, 5, 7, 2]], forward: { $0[0].permuted([2, 0, 3, 1]) },
               reference: { Ref.permute($0[0], [3, 5, 7, 2], [2, 0, 3, 1]) }),
        OpCase(name: "slice axis 0 (view)", shapes: [[5, 7]], forward: { $0[0].slice(axis: 0, 1..<4).scaled(by: 1) },
               reference: { Ref.slice($0[0], [5, 7], axis: 0, 1..<4) }),
        OpCase(name: "slice axis 1", shapes: [[3, 5, 7]], forward: { $0[0].slice(axis: 1, 2..<5) },
               reference: { Ref.slice($0[0], [3, 5, 7], axis: 1, 2..<5) }),
        OpCase(name: "concatenate axis 1", shapes: [[3, 2, 7], [3, 5, 7]], forward: { Tensor.concatenate($0, axis: 1) },
               reference: { Ref.concatenateMiddle($0[0], $0[1], outer: 3, sizeA: 14, sizeB: 35) }),
        OpCase(name: "broadcast", shapes: [[5, 1]], forward: { $0[0].broadcast(to: [3, 5, 7]) },
               reference: { Ref.broadcast($0[0], [5, 1], [Double](repeating: 0, count: 105), [3, 5, 7], +) }),
    ]

    static let reductionCases: [OpCase] = [
        OpCase(name: "sum all", shapes: [[3, 5, 7]], forward: { $0[0].sum() }, reference: { [$0[0].reduce(0, +)] }),
        OpCase(name: "mean all", shapes: [[3, 5, 7]], forward: { $0[0].mean() }, reference: { [$0[0].reduce(0, +) / 105] }),
        OpCase(name: "sum axis 1", shapes: [[3, 5, 7]], forward: { $0[0].sum(axis: 1) },
               reference: { Ref.reduce($0[0], [3, 5, 7], axis: 1) { $0.reduce(0, +) } }),
        OpCase(name: "mean axis -1 keeping", shapes: [[3, 5, 7]], forward: { $0[0].mean(axis: -1, keepingDimension: true) },
               reference: { Ref.reduce($0[0], [3, 5, 7], axis: 2) { $0.reduce(0, +) / 7 } }),
        OpCase(name: "max axis 0", shapes: [[3, 5, 7]], forward: { $0[0].max(axis: 0) },
               reference: { Ref.reduce($0[0], [3, 5, 7], axis: 0) { $0.max()! } }),
        OpCase(name: "max all", shapes: [[3, 5, 7]], forward: { $0[0].max() }, reference: { [$0[0].max()!] }),
    ]

    static let productCases: [OpCase] = [
        OpCase(name: "matmul 2-D", shapes: [[5, 7], [7, 3]], forward: { $0[0].matmul($0[1]) },
               reference: { Ref.matmul($0[0], $0[1], batch: 1, m: 5, k: 7, n: 3, sharedB: true) }),
        OpCase(name: "matmul batched", shapes: [[2, 3, 5, 7], [2, 3, 7, 4]], forward: { $0[0].matmul($0[1]) },
               reference: { Ref.matmul($0[0], $0[1], batch: 6, m: 5, k: 7, n: 4, sharedB: false) }),
        OpCase(name: "matmul shared weight", shapes: [[3, 5, 7], [7, 4]], forward: { $0[0].matmul($0[1]) },
               reference: { Ref.matmul($0[0], $0[1], batch: 3, m: 5, k: 7, n: 4, sharedB: true) }),
        OpCase(name: "linear with bias", shapes: [[3, 5, 7], [4, 7], [4]], forward: { $0[0].linear(weight: $0[1], bias: $0[2]) },
               reference: { x in
                   let wt = Ref.permute(x[1], [4, 7], [1, 0])
                   return Ref.broadcast(Ref.matmul(x[0], wt, batch: 15, m: 1, k: 7, n: 4, sharedB: true), [15, 4], x[2], [4], +)
               }),
        OpCase(name: "linear input-major weight", shapes: [[2, 3, 7], [7, 5], [5]],
               forward: { $0[0].linear(inputMajorWeight: $0[1], bias: $0[2]) },
               reference: { x in Ref.broadcast(Ref.matmul(x[0], x[1], batch: 6, m: 1, k: 7, n: 5, sharedB: true), [6, 5], x[2], [5], +) }),
        OpCase(name: "linear no bias", shapes: [[4, 9], [6, 9]], forward: { $0[0].linear(weight: $0[1]) },
               reference: { x in Ref.matmul(x[0], Ref.permute(x[1], [6, 9], [1, 0]), batch: 4, m: 1, k: 9, n: 6, sharedB: true) }),
    ]

    static let fusedCases: [OpCase] = [
        OpCase(name: "gelu", shapes: [[3, 5, 7]], low: -4, high: 4, forward: { $0[0].gelu() },
               reference: { Activations.referenceGELU($0[0]) }),
        OpCase(name: "geluFeedForward", shapes: [[3, 5, 7], [7, 11], [11], [11, 6], [6]], low: -2, high: 2,
               forward: { $0[0].geluFeedForward(inputMajorWeight: $0[1], bias: $0[2], outputWeight: $0[3], outputBias: $0[4]) },
               reference: { x in
                   let h = Ref.broadcast(Ref.matmul(x[0], x[1], batch: 15, m: 1, k: 7, n: 11, sharedB: true), [15, 11], x[2], [11], +)
                   let g = Activations.referenceGELU(h)
                   return Ref.broadcast(Ref.matmul(g, x[3], batch: 15, m: 1, k: 11, n: 6, sharedB: true), [15, 6], x[4], [6], +)
               }),
        OpCase(name: "silu", shapes: [[3, 5, 7]], low: -6, high: 6, forward: { $0[0].silu() },
               reference: { Activations.referenceSiLU($0[0]) }),
        OpCase(name: "softmax", shapes: [[3, 5, 19]], low: -3, high: 3, forward: { $0[0].softmax() },
               reference: { Softmax.reference($0[0], rows: 15, cols: 19) }),
        OpCase(name: "layerNorm", shapes: [[3, 5, 19], [19], [19]], forward: { $0[0].layerNorm(weight: $0[1], bias: $0[2], eps: 1e-5) },
               reference: { Normalization.referenceLayerNorm($0[0], gamma: $0[1], beta: $0[2], rows: 15, cols: 19, eps: 1e-5) }),
        OpCase(name: "layerNorm no bias", shapes: [[4, 37], [37]], forward: { $0[0].layerNorm(weight: $0[1], bias: nil) },
               reference: { Normalization.referenceLayerNorm($0[0], gamma: $0[1], beta: nil, rows: 4, cols: 37, eps: 1e-5) }),
        OpCase(name: "rmsNorm", shapes: [[3, 5, 19], [19]], forward: { $0[0].rmsNorm(weight: $0[1], eps: 1e-6) },
               reference: { Normalization.referenceRMSNorm($0[0], gamma: $0[1], rows: 15, cols: 19, eps: 1e-6) }),
        OpCase(name: "embedding", shapes: [[11, 6]], forward: { Tensor.embedding($0[0], ids: tokenIDs) },
               reference: { Ref.gatherRows($0[0], ids: tokenIDs.values, width: 6) }),
        OpCase(name: "attention causal", shapes: [[2, 13, 3, 5], [2, 13, 3, 5], [2, 13, 3, 5]],
               forward: { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]) },
               reference: { Attention.reference(q: $0[0], k: $0[1], v: $0[2], shape: AttentionShape(batch: 2, time: 13, heads: 3, kvHeads: 3, headSize: 5), scale: 1 / 5.0.squareRoot(), causal: true) }),
        OpCase(name: "attention grouped-query", shapes: [[2, 11, 4, 6], [2, 11, 2, 6], [2, 11, 2, 6]],
               forward: { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]) },
               reference: { Attention.reference(q: $0[0], k: $0[1], v: $0[2], shape: AttentionShape(batch: 2, time: 11, heads: 4, kvHeads: 2, headSize: 6), scale: 1 / 6.0.squareRoot(), causal: true) }),
        OpCase(name: "attention bidirectional", shapes: [[1, 9, 2, 4], [1, 9, 1, 4], [1, 9, 1, 4]],
               forward: { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: false, scale: 0.3) },
               reference: { Attention.reference(q: $0[0], k: $0[1], v: $0[2], shape: AttentionShape(batch: 1, time: 9, heads: 2, kvHeads: 1, headSize: 4), scale: 0.3, causal: false) }),
        OpCase(name: "attention causal, several row blocks", shapes: [[1, 70, 2, 4], [1, 70, 1, 4], [1, 70, 1, 4]],
               forward: { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]) },
               reference: { Attention.reference(q: $0[0], k: $0[1], v: $0[2], shape: AttentionShape(batch: 1, time: 70, heads: 2, kvHeads: 1, headSize: 4), scale: 0.5, causal: true) }),
        OpCase(name: "attention from packed qkv", shapes: [[2, 9, 16]],
               forward: { Tensor.scaledDotProductAttention(packedQKV: $0[0], heads: 2, kvHeads: 1) },
               reference: { x in
                   // Unpack [B, T, (2 + 2·1)·4] into q [B, T, 2, 4], k and v [B, T, 1, 4].
                   var q: [Double] = [], k: [Double] = [], v: [Double] = []
                   for row in 0..<18 {
                       q += x[0][(row * 16)..<(row * 16 + 8)]
                       k += x[0][(row * 16 + 8)..<(row * 16 + 12)]
                       v += x[0][(row * 16 + 12)..<(row * 16 + 16)]
                   }
                   return Attention.reference(q: q, k: k, v: v, shape: AttentionShape(batch: 2, time: 9, heads: 2, kvHeads: 1, headSize: 4), scale: 0.5, causal: true)
               }),
        OpCase(name: "rotary embedding", shapes: [[2, 7, 3, 10]], forward: { $0[0].rotaryEmbedding(base: 10_000, startPosition: 3) },
               reference: { RotaryEmbedding.reference($0[0], batch: 2, time: 7, heads: 3, headSize: 10, base: 10_000, start: 3) }),
        OpCase(name: "cross-entropy with ignore index", shapes: [[3, 5, 11]], low: -3, high: 3,
               forward: { Tensor.crossEntropy(logits: $0[0], targets: targetIDs) },
               reference: { [CrossEntropy.reference(logits: $0[0], targets: targetIDs.values, rows: 15, vocab: 11, ignoreIndex: -100)] }),
    ]
}
