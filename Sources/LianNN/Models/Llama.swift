import Foundation
import LianTensor

// LLaMA as transformers' LlamaForCausalLM computes it. B = batch, T = time, C = width,
// H = query heads, G = key/value heads, D = head size, V = vocabulary.
//
//   x = embed_tokens[ids]                                                    (B, T, C)
//   for each layer:  x = x + self_attn(input_layernorm(x))     (RoPE on q, k; GQA)
//                    x = x + mlp(post_attention_layernorm(x))  (SwiGLU)
//   logits = norm(x) · Wᵀ   (W = lm_head, or embed_tokens when tied)          (B, T, V)

public final class LlamaDecoderLayer: Module {
    public let inputLayernorm: RMSNorm, selfAttn: LlamaAttention, postAttentionLayernorm: RMSNorm, mlp: SwiGLUMLP

    init(_ config: LlamaConfig) {
        inputLayernorm = RMSNorm(size: config.width, eps: config.rmsNormEpsilon)
        selfAttn = LlamaAttention(width: config.width, heads: config.heads, kvHeads: config.kvHeads,
                                  headSize: config.headSize, ropeTheta: config.ropeTheta)
        postAttentionLayernorm = RMSNorm(size: config.width, eps: config.rmsNormEpsilon)
        mlp = SwiGLUMLP(width: config.width, hidden: config.mlpSize)
        selfAttn.attentionDropout = config.attentionDropout
    }

    public var children: [(name: String, module: any Module)] {
        [("input_layernorm", inputLayernorm), ("self_attn", selfAttn),
         ("post_attention_layernorm", postAttentionLayernorm), ("mlp", mlp)]
    }

    public func callAsFunction(_ x: Tensor, dropout: DropoutSource? = nil) -> Tensor {
        let h = x + selfAttn(inputLayernorm(x), dropout: dropout)
        return h + mlp(postAttentionLayernorm(h))
    }
}

/// The body under the `model.` prefix.
public final class LlamaBody: Module {
    public let embedTokens: Embedding, layers: ModuleList<LlamaDecoderLayer>, norm: RMSNorm

    init(_ config: LlamaConfig) {
        embedTokens = Embedding(count: config.vocabSize, size: config.width)
        layers = ModuleList((0..<config.layers).map { _ in LlamaDecoderLayer(config) })
        norm = RMSNorm(size: config.width, eps: config.rmsNormEpsilon)
    }

    public var children: [(name: String, module: any Module)] {
        [("embed_tokens", embedTokens), ("layers", layers), ("norm", norm)]
    }
}

public final class Llama: LanguageModel {
    public let config: LlamaConfig
    public let model: LlamaBody
    public let lmHead: Linear?

    /// A model with GPT-2-style initialization drawn from `seed`.
    public init(_ config: LlamaConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        model = LlamaBody(config)
        lmHead = config.tieWordEmbeddings ? nil : Linear(inputSize: config.width, outputSize: config.vocabSize, bias: false)
        initializeGPT2Style(namedParameters(), std: config.initializerRange, layers: config.layers,
                            isResidualProjection: { $0.hasSuffix("o_proj.weight") || $0.hasSuffix("down_proj.weight") },
                            isNormWeight: { $0.hasSuffix("norm.weight") }, seed: seed)
    }

    public var children: [(name: String, module: any Module)] {
        [("model", model)] + (lmHead.map { [("lm_head", $0)] } ?? [])
    }

    public var vocabularySize: Int { config.vocabSize }
    public var configuration: ModelConfiguration { .llama(config) }
    public var contextLength: Int { config.contextLength }
    public func configJSON() throws -> Data { try config.huggingFaceJSON() }

    public func features(_ ids: IndexTensor, collectHiddenStates: Bool, dropout: DropoutSource?) -> ModelFeatures {
        validate(ids)
        var x = model.embedTokens(ids)                                     // (B, T, C)
        var hidden: [Tensor] = []
        for layer in model.layers.items {
            if collectHiddenStates { hidden.append(x) }
            x = layer(x, dropout: dropout)
        }
        x = model.norm(x)
        if collectHiddenStates { hidden.append(x) }
        return ModelFeatures(final: x, hiddenStates: hidden, head: lmHead?.weight.value ?? model.embedTokens.weight.value)
    }
}
