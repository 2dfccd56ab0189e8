import LianNN
import LianTensor

/// GPT-2 decoding with a key/value cache. C = width; the fused projection gives q | k | v.
public final class GPT2KVCache: KVCache {
    let model: GPT2
    private var layers: [LayerKVCache]
    let width: Int

    public init(model: GPT2) {
        self.model = model
        width = model.config.width
        let c = model.config
        layers = Array(repeating: LayerKVCache(capacity: c.contextLength, heads: c.heads, kvHeads: c.heads, headSize: c.width / c.heads),
                       count: c.layers)
    }

    public var length: Int { layers[0].length }
    /// Learned positions end at the context length.
    public var isFull: Bool { length >= model.config.contextLength }

    public func step(_ id: Int32) -> [Float] {
        precondition(!isFull, "[kv-cache] the context of \(model.config.contextLength) tokens is full")
        return withNoGrad {
            let t = model.transformer
            var x = Tensor.embedding(t.wte.weight.value, ids: IndexTensor(shape: [1], values: [id]))
                + Tensor.embedding(t.wpe.weight.value, ids: IndexTensor(shape: [1], values: [Int32(length)]))   // [1, C]
            for (i, block) in t.h.items.enumerated() {
                let qkv = block.attn.cAttn(block.ln1(x)).scalars                 // [3C]: q | k | v
                layers[i].append(key: qkv[width..<(2 * width)], value: qkv[(2 * width)...])
                let attended = layers[i].attend(query: Array(qkv[0..<width]))
                x = x + block.attn.cProj(Tensor(shape: [1, width], values: attended))
                x = x + block.mlp(block.ln2(x))
            }
            let head = model.lmHead?.weight.value ?? t.wte.weight.value
            return t.lnF(x).linear(weight: head).scalars
        }
    }
}
