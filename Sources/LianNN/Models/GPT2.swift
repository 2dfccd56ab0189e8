import Foundation
import LianTensor

// GPT-2 (Radford et al. 2019) as transformers' GPT2LMHeadModel computes it.
// B = batch, T = time, C = width (n_embd), V = vocabulary.
//
//   x = wte[ids] + wpe[0..<T]                                 (B, T, C)
//   for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
//   logits = ln_f(x) · Wᵀ   (W = wte when tied, else lm_head)   (B, T, V)

/// One GPT-2 block: pre-LayerNorm attention and MLP, each added to the residual stream.
public final class GPT2Block: Module {
    public let ln1: LayerNorm, attn: GPT2Attention, ln2: LayerNorm, mlp: GPT2MLP

    init(_ config: GPT2Config) {
        ln1 = LayerNorm(size: config.width, eps: config.layerNormEpsilon)
        attn = GPT2Attention(width: config.width, heads: config.heads)
        ln2 = LayerNorm(size: config.width, eps: config.layerNormEpsilon)
        mlp = GPT2MLP(width: config.width, hidden: config.mlpSize)
        attn.attentionDropout = config.attentionDropout
        attn.residualDropout = config.residualDropout
        mlp.residualDropout = config.residualDropout
    }

    public var children: [(name: String, module: any Module)] {
        [("ln_1", ln1), ("attn", attn), ("ln_2", ln2), ("mlp", mlp)]
    }

    public func callAsFunction(_ x: Tensor, dropout: DropoutSource? = nil) -> Tensor {
        let h = x + attn(ln1(x), dropout: dropout)
        return h + mlp(ln2(h), dropout: dropout)
    }
}

/// The body under the `transformer.` prefix.
public final class GPT2Transformer: Module {
    public let wte: Embedding, wpe: Embedding, h: ModuleList<GPT2Block>, lnF: LayerNorm

    init(_ config: GPT2Config) {
        wte = Embedding(count: config.vocabSize, size: config.width)
        wpe = Embedding(count: config.contextLength, size: config.width)
        h = ModuleList((0..<config.layers).map { _ in GPT2Block(config) })
        lnF = LayerNorm(size: config.width, eps: config.layerNormEpsilon)
    }

    public var children: [(name: String, module: any Module)] {
        [("wte", wte), ("wpe", wpe), ("h", h), ("ln_f", lnF)]
    }
}

/// GPT-2 with its language-model head.
public final class GPT2: LanguageModel {
    public let config: GPT2Config
    public let transformer: GPT2Transformer
    /// The output projection [V, C]: `transformer.wte`'s parameter itself when tied.
    public let lmHead: Linear?

    /// A model with GPT-2's initialization drawn from `seed`.
    public init(_ config: GPT2Config, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        transformer = GPT2Transformer(config)
        lmHead = config.tieWordEmbeddings ? nil : Linear(inputSize: config.width, outputSize: config.vocabSize, bias: false)
        initializeGPT2Style(namedParameters(), std: config.initializerRange, layers: config.layers,
                            isResidualProjection: { $0.hasSuffix("c_proj.weight") },
                            isNormWeight: { $0.contains(".ln_") && $0.hasSuffix(".weight") }, seed: seed)
    }

    public var children: [(name: String, module: any Module)] {
        [("transformer", transformer)] + (lmHead.map { [("lm_head", $0)] } ?? [])
    }

    public var vocabularySize: Int { config.vocabSize }
    public var configuration: ModelConfiguration { .gpt2(config) }
    public var contextLength: Int { config.contextLength }
    public func configJSON() throws -> Data { try config.huggingFaceJSON() }

    public func features(_ ids: IndexTensor, collectHiddenStates: Bool, dropout: DropoutSource?) -> ModelFeatures {
        validate(ids)
        let t = ids.shape[1]
        let positions = IndexTensor(shape: [t], values: (0..<Int32(t)).map { $0 })
        var x = transformer.wte(ids) + transformer.wpe(positions)        // (B, T, C) + (T, C)
        if let dropout { x = dropout.apply(x, probability: config.embeddingDropout) }
        var hidden: [Tensor] = []
        for block in transformer.h.items {
            if collectHiddenStates { hidden.append(x) }
            x = block(x, dropout: dropout)
        }
        x = transformer.lnF(x)
        if collectHiddenStates { hidden.append(x) }
        return ModelFeatures(final: x, hiddenStates: hidden, head: lmHead?.weight.value ?? transformer.wte.weight.value)
    }
}
