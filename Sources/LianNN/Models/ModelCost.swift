/// Arithmetic cost of a model, counted from its configuration (no model needs to be built).
///
/// Conventions (those of the PaLM paper's MFU, which nanoGPT and llm.c also report):
/// a matrix product of an [n, k] by [k, m] costs 2·n·k·m FLOPs; per token the forward pass costs
/// 2 × (weights used in matrix products, the output head included) plus the attention products
/// QKᵀ and PV over the full context, 2 · 2 · T · (heads · head size) per layer (causal masking is
/// not subtracted); the backward pass costs twice the forward. Norms, activations, softmax and the
/// optimizer are left out: they are memory-bound and small beside the products.
extension ModelConfiguration {
    /// Weights that enter matrix products, per layer (biases excluded) plus the output head.
    public var matmulWeights: Int {
        switch self {
        case .gpt2(let c):
            let perLayer = c.width * 3 * c.width + c.width * c.width + 2 * c.width * c.mlpSize
            return c.layers * perLayer + c.vocabSize * c.width
        case .llama(let c):
            let attention = c.width * (c.heads + 2 * c.kvHeads) * c.headSize + c.heads * c.headSize * c.width
            return c.layers * (attention + 3 * c.width * c.mlpSize) + c.vocabSize * c.width
        }
    }

    /// Width of the attention products (heads × head size).
    var attentionWidth: Int {
        switch self {
        case .gpt2(let c): c.width
        case .llama(let c): c.heads * c.headSize
        }
    }

    /// Forward-pass FLOPs per token at sequence length `context`.
    public func forwardFLOPsPerToken(context: Int) -> Double {
        2 * Double(matmulWeights) + 4 * Double(layers) * Double(context) * Double(attentionWidth)
    }

    /// Forward + backward FLOPs per token at sequence length `context` (3 × forward).
    public func trainingFLOPsPerToken(context: Int) -> Double {
        3 * forwardFLOPsPerToken(context: context)
    }

    /// The number of parameters the model has (a tied head counted once).
    public var parameterCount: Int {
        switch self {
        case .gpt2(let c):
            let block = 2 * 2 * c.width + (c.width * 3 * c.width + 3 * c.width) + (c.width * c.width + c.width)
                + (c.width * c.mlpSize + c.mlpSize) + (c.mlpSize * c.width + c.width)
            return c.vocabSize * c.width + c.contextLength * c.width + c.layers * block + 2 * c.width
                + (c.tieWordEmbeddings ? 0 : c.vocabSize * c.width)
        case .llama(let c):
            let attention = c.width * (c.heads + 2 * c.kvHeads) * c.headSize + c.heads * c.headSize * c.width
            let block = 2 * c.width + attention + 3 * c.width * c.mlpSize
            return c.vocabSize * c.width + c.layers * block + c.width + (c.tieWordEmbeddings ? 0 : c.vocabSize * c.width)
        }
    }
}
