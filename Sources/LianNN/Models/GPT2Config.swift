import Foundation

/// GPT-2's configuration, with the keys of Hugging Face's `config.json`.
public struct GPT2Config: Codable, Equatable, Sendable {
    public var vocabSize: Int
    /// n_positions: the longest sequence (learned position embeddings).
    public var contextLength: Int
    /// n_embd
    public var width: Int
    /// n_layer
    public var layers: Int
    /// n_head
    public var heads: Int
    /// n_inner: the MLP's hidden size; nil means 4·width.
    public var innerSize: Int?
    public var layerNormEpsilon: Float
    public var activationFunction: String
    public var tieWordEmbeddings: Bool
    public var initializerRange: Float
    /// Dropout probabilities in training: embeddings (embd_pdrop), the two residual branches
    /// (resid_pdrop) and the attention probabilities (attn_pdrop).
    public var embeddingDropout: Float = 0
    public var residualDropout: Float = 0
    public var attentionDropout: Float = 0

    public init(vocabSize: Int, contextLength: Int, width: Int, layers: Int, heads: Int, innerSize: Int? = nil,
                layerNormEpsilon: Float = 1e-5, tieWordEmbeddings: Bool = true, initializerRange: Float = 0.02) {
        self.vocabSize = vocabSize; self.contextLength = contextLength; self.width = width
        self.layers = layers; self.heads = heads; self.innerSize = innerSize
        self.layerNormEpsilon = layerNormEpsilon; self.activationFunction = "gelu_new"
        self.tieWordEmbeddings = tieWordEmbeddings; self.initializerRange = initializerRange
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", contextLength = "n_positions", width = "n_embd", layers = "n_layer"
        case heads = "n_head", innerSize = "n_inner", layerNormEpsilon = "layer_norm_epsilon"
        case activationFunction = "activation_function", tieWordEmbeddings = "tie_word_embeddings"
        case initializerRange = "initializer_range"
        case embeddingDropout = "embd_pdrop", residualDropout = "resid_pdrop", attentionDropout = "attn_pdrop"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        contextLength = try c.decode(Int.self, forKey: .contextLength)
        width = try c.decode(Int.self, forKey: .width)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        innerSize = try c.decodeIfPresent(Int.self, forKey: .innerSize)
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5
        activationFunction = try c.decodeIfPresent(String.self, forKey: .activationFunction) ?? "gelu_new"
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? 0.02
        // transformers' defaults when the keys are absent.
        embeddingDropout = try c.decodeIfPresent(Float.self, forKey: .embeddingDropout) ?? 0.1
        residualDropout = try c.decodeIfPresent(Float.self, forKey: .residualDropout) ?? 0.1
        attentionDropout = try c.decodeIfPresent(Float.self, forKey: .attentionDropout) ?? 0.1
    }

    public var mlpSize: Int { innerSize ?? 4 * width }

    /// Throws a `ModelError` naming every value that cannot make a working model.
    public func validate(path: String = "GPT-2 configuration") throws {
        var v = ConfigValidator(path: path)
        v.require(vocabSize > 0, "vocab_size must be positive (got \(vocabSize))")
        v.require(contextLength > 0, "n_positions must be positive (got \(contextLength))")
        v.require(layers > 0, "n_layer must be positive (got \(layers))")
        v.require(heads > 0, "n_head must be positive (got \(heads))")
        v.require(width > 0, "n_embd must be positive (got \(width))")
        v.require(heads <= 0 || width % heads == 0, "n_head (\(heads)) must divide n_embd (\(width))")
        v.require(mlpSize > 0, "n_inner must be positive (got \(mlpSize))")
        for (key, p) in [("embd_pdrop", embeddingDropout), ("resid_pdrop", residualDropout), ("attn_pdrop", attentionDropout)] {
            v.require(p >= 0 && p < 1, "\(key) must be in [0, 1) (got \(p))")
        }
        v.require(layerNormEpsilon > 0, "layer_norm_epsilon must be positive (got \(layerNormEpsilon))")
        v.require(["gelu_new", "gelu_pytorch_tanh"].contains(activationFunction),
                  "activation_function '\(activationFunction)' is not supported (Lian's GPT-2 uses the tanh GELU: gelu_new)")
        try v.check()
    }

    /// The config.json transformers reads, with the fields Lian uses and the ones it fixes.
    public func huggingFaceJSON() throws -> Data {
        var object: [String: Any] = [
            "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
            "vocab_size": vocabSize, "n_positions": contextLength, "n_embd": width, "n_layer": layers,
            "n_head": heads, "layer_norm_epsilon": Double(layerNormEpsilon), "activation_function": activationFunction,
            "tie_word_embeddings": tieWordEmbeddings, "initializer_range": Double(initializerRange),
            "attn_pdrop": Double(attentionDropout), "embd_pdrop": Double(embeddingDropout),
            "resid_pdrop": Double(residualDropout), "scale_attn_weights": true,
            "scale_attn_by_inverse_layer_idx": false, "reorder_and_upcast_attn": false, "torch_dtype": "float32",
        ]
        object["n_inner"] = innerSize ?? NSNull()
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
