import Foundation
import LianKernels
import LianNN
import LianTensor

/// Incremental GPT-2 decoding with a key/value cache: each new token runs through the model alone,
/// attending to the keys and values cached for the tokens before it, so a step costs O(T) instead
/// of a full O(T²) forward pass over the window.
///
/// C = width, H = heads, D = head size; the cache of each layer is [T_max, C] for keys and values
/// (heads side by side, as the fused projection lays them out).
public final class GPT2KVCache {
    let model: GPT2
    public private(set) var length = 0
    private var keys: [[Float]]
    private var values: [[Float]]
    let width: Int, heads: Int, headSize: Int

    public init(model: GPT2) {
        self.model = model
        width = model.config.width
        heads = model.config.heads
        headSize = width / heads
        let capacity = model.config.contextLength * width
        keys = Array(repeating: [Float](repeating: 0, count: capacity), count: model.config.layers)
        values = keys
    }

    /// Whether another token fits (learned positions end at the context length).
    public var isFull: Bool { length >= model.config.contextLength }

    /// Feeds one token at the next position; returns the logits for the token after it.
    public func step(_ id: Int32) -> [Float] {
        precondition(!isFull, "[kv-cache] the context of \(model.config.contextLength) tokens is full")
        return withNoGrad {
            let t = model.transformer
            var x = Tensor.embedding(t.wte.weight.value, ids: IndexTensor(shape: [1], values: [id]))
                + Tensor.embedding(t.wpe.weight.value, ids: IndexTensor(shape: [1], values: [Int32(length)]))   // [1, C]
            for (layer, block) in t.h.items.enumerated() {
                let qkv = block.attn.cAttn(block.ln1(x)).scalars                // [3C]: q | k | v
                // Append this position's key and value.
                keys[layer].replaceSubrange((length * width)..<((length + 1) * width), with: qkv[width..<(2 * width)])
                values[layer].replaceSubrange((length * width)..<((length + 1) * width), with: qkv[(2 * width)...])
                let attended = attend(query: Array(qkv[0..<width]), layer: layer)
                x = x + block.attn.cProj(Tensor(shape: [1, width], values: attended))
                x = x + block.mlp(block.ln2(x))
            }
            length += 1
            let head = model.lmHead?.weight.value ?? t.wte.weight.value
            return t.lnF(x).linear(weight: head).scalars
        }
    }

    /// Softmax attention of one query over positions 0...length (this one included), per head.
    func attend(query: [Float], layer: Int) -> [Float] {
        var out = [Float](repeating: 0, count: width)
        let scale = 1 / Float(headSize).squareRoot()
        let n = length + 1
        var scores = [Float](repeating: 0, count: n)
        keys[layer].withUnsafeBufferPointer { k in
            values[layer].withUnsafeBufferPointer { v in
                for h in 0..<heads {
                    let o = h * headSize
                    for j in 0..<n {
                        var dot: Float = 0
                        for d in 0..<headSize { dot += query[o + d] * k[j * width + o + d] }
                        scores[j] = dot * scale
                    }
                    scores.withUnsafeMutableBufferPointer { Softmax.row($0.baseAddress!, $0.baseAddress!, n) }
                    for j in 0..<n {
                        let p = scores[j]
                        for d in 0..<headSize { out[o + d] += p * v[j * width + o + d] }
                    }
                }
            }
        }
        return out
    }
}
