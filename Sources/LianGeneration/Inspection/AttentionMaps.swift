import Foundation
import LianKernels
import LianNN
import LianTensor

/// The attention probabilities of every layer and head for one sequence: row i is how query
/// position i spreads its attention over positions 0…i (causal, so later positions get 0).
public struct AttentionMaps: Sendable {
    public let layers: Int, heads: Int, tokens: Int
    /// [layer][head] → T×T row-major probabilities.
    public let probabilities: [[[Float]]]

    public func row(layer: Int, head: Int, query: Int) -> ArraySlice<Float> {
        probabilities[layer][head][(query * tokens)..<((query + 1) * tokens)]
    }
}

extension Inspector {
    /// Runs `ids` through the model and records each layer's attention probabilities, computed
    /// from that layer's own queries and keys (RoPE and grouped-query heads for LLaMA) exactly as
    /// the forward pass computes them; the residual stream advances through the real layers.
    public static func attention(_ model: any LanguageModel, ids: [Int32]) -> AttentionMaps {
        let t = ids.count
        precondition(t > 0 && t <= model.contextLength, "[inspect] 1…\(model.contextLength) tokens, got \(t)")
        var maps: [[[Float]]] = []
        var heads = 0
        withNoGrad {
            if let m = model as? GPT2 {
                let c = m.config
                heads = c.heads
                let tr = m.transformer
                var x = tr.wte(IndexTensor(shape: [1, t], values: ids))
                    + tr.wpe(IndexTensor(shape: [1, t], values: (0..<t).map { Int32($0) }))
                for block in tr.h.items {
                    let qkv = block.attn.cAttn(block.ln1(x)).scalars                 // [T, 3C]
                    let d = c.width / c.heads
                    maps.append((0..<c.heads).map { h in
                        probabilities(t: t, headSize: d, query: { i in Array(qkv[(i * 3 * c.width + h * d)..<(i * 3 * c.width + h * d + d)]) },
                                      key: { j in Array(qkv[(j * 3 * c.width + c.width + h * d)..<(j * 3 * c.width + c.width + h * d + d)]) })
                    })
                    x = block(x)
                }
            } else if let m = model as? Llama {
                let c = m.config
                heads = c.heads
                var x = m.model.embedTokens(IndexTensor(shape: [1, t], values: ids))
                for layer in m.model.layers.items {
                    let a = layer.selfAttn
                    let h = layer.inputLayernorm(x)
                    let q = a.qProj(h).reshaped(to: [1, t, c.heads, c.headSize]).rotaryEmbedding(base: c.ropeTheta, startPosition: 0).scalars
                    let k = a.kProj(h).reshaped(to: [1, t, c.kvHeads, c.headSize]).rotaryEmbedding(base: c.ropeTheta, startPosition: 0).scalars
                    let d = c.headSize, group = c.heads / c.kvHeads
                    maps.append((0..<c.heads).map { hd in
                        probabilities(t: t, headSize: d, query: { i in Array(q[((i * c.heads + hd) * d)..<((i * c.heads + hd) * d + d)]) },
                                      key: { j in Array(k[((j * c.kvHeads + hd / group) * d)..<((j * c.kvHeads + hd / group) * d + d)]) })
                    })
                    x = layer(x)
                }
            }
        }
        return AttentionMaps(layers: maps.count, heads: heads, tokens: t, probabilities: maps)
    }

    /// Causal softmax(q·k/√D) for one head: T×T, zeros above the diagonal.
    static func probabilities(t: Int, headSize d: Int, query: (Int) -> [Float], key: (Int) -> [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: t * t)
        let keys = (0..<t).map(key)
        let scale = 1 / Float(d).squareRoot()
        for i in 0..<t {
            let q = query(i)
            var row = (0...i).map { j in zip(q, keys[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 } * scale }
            row.withUnsafeMutableBufferPointer { Softmax.row($0.baseAddress!, $0.baseAddress!, i + 1) }
            for j in 0...i { out[i * t + j] = row[j] }
        }
        return out
    }
}
