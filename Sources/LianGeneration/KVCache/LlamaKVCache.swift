import LianNN
import LianTensor

/// LLaMA decoding with a key/value cache: keys are cached after the rotary embedding of their
/// position, so each step rotates only its own query and key. H = query heads, G = key/value
/// heads, D = head size.
public final class LlamaKVCache: KVCache {
    let model: Llama
    private var layers: [LayerKVCache]

    public init(model: Llama) {
        self.model = model
        let c = model.config
        layers = Array(repeating: LayerKVCache(capacity: c.contextLength, heads: c.heads, kvHeads: c.kvHeads, headSize: c.headSize),
                       count: c.layers)
    }

    public var length: Int { layers[0].length }
    public var isFull: Bool { length >= model.config.contextLength }

    public func step(_ id: Int32) -> [Float] {
        precondition(!isFull, "[kv-cache] the context of \(model.config.contextLength) tokens is full")
        let c = model.config
        let position = length
        return withNoGrad {
            var x = model.model.embedTokens(IndexTensor(shape: [1, 1], values: [id]))          // [1, 1, C]
            for (i, layer) in model.model.layers.items.enumerated() {
                let a = layer.selfAttn
                let h = layer.inputLayernorm(x)
                let q = a.qProj(h).reshaped(to: [1, 1, c.heads, c.headSize]).rotaryEmbedding(base: c.ropeTheta, startPosition: position)
                let k = a.kProj(h).reshaped(to: [1, 1, c.kvHeads, c.headSize]).rotaryEmbedding(base: c.ropeTheta, startPosition: position)
                layers[i].append(key: k.scalars, value: a.vProj(h).scalars)
                let attended = layers[i].attend(query: q.scalars)
                x = x + a.oProj(Tensor(shape: [1, 1, c.heads * c.headSize], values: attended))
                x = x + layer.mlp(layer.postAttentionLayernorm(x))
            }
            let head = model.lmHead?.weight.value ?? model.model.embedTokens.weight.value
            return model.model.norm(x).linear(weight: head).scalars
        }
    }
}
