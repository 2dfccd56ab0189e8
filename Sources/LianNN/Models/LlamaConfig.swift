import Foundation

/// LLaMA's configuration, with the keys of Hugging Face's `config.json`.
public struct LlamaConfig: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var width: Int
    public var mlpSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headSize: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Float
    public var contextLength: Int
    public var tieWordEmbeddings: Bool
    public var initializerRange: Float
    /// Dropout on the attention probabilities in training (attention_dropout).
    public var attentionDropout: Float = 0
    /// Read from the file so that unsupported variants are refused, not silently mis-computed.
    var attentionBias: Bool = false
    var mlpBias: Bool = false
    var hiddenAct: String = "silu"
    var ropeType: String = "default"

    public init(vocabSize: Int, width: Int, mlpSize: Int, layers: Int, heads: Int, kvHeads: Int? = nil,
                headSize: Int? = nil, rmsNormEpsilon: Float = 1e-6, ropeTheta: Float = 10_000,
                contextLength: Int = 2048, tieWordEmbeddings: Bool = false, initializerRange: Float = 0.02) {
        self.vocabSize = vocabSize; self.width = width; self.mlpSize = mlpSize; self.layers = layers
        self.heads = heads; self.kvHeads = kvHeads ?? heads; self.headSize = headSize ?? (heads > 0 ? width / heads : 0)
        self.rmsNormEpsilon = rmsNormEpsilon; self.ropeTheta = ropeTheta; self.contextLength = contextLength
        self.tieWordEmbeddings = tieWordEmbeddings; self.initializerRange = initializerRange
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", width = "hidden_size", mlpSize = "intermediate_size"
        case layers = "num_hidden_layers", heads = "num_attention_heads", kvHeads = "num_key_value_heads"
        case headSize = "head_dim", rmsNormEpsilon = "rms_norm_eps", ropeTheta = "rope_theta"
        case ropeParameters = "rope_parameters", ropeScaling = "rope_scaling"
        case contextLength = "max_position_embeddings", tieWordEmbeddings = "tie_word_embeddings"
        case initializerRange = "initializer_range", attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case hiddenAct = "hidden_act", attentionDropout = "attention_dropout"
    }

    struct RopeParameters: Codable {
        var ropeTheta: Float?
        var ropeType: String?
        enum CodingKeys: String, CodingKey { case ropeTheta = "rope_theta", ropeType = "rope_type" }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        width = try c.decode(Int.self, forKey: .width)
        mlpSize = try c.decode(Int.self, forKey: .mlpSize)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        kvHeads = try c.decodeIfPresent(Int.self, forKey: .kvHeads) ?? heads
        headSize = try c.decodeIfPresent(Int.self, forKey: .headSize) ?? (heads > 0 ? width / heads : 0)
        rmsNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .rmsNormEpsilon) ?? 1e-6
        // transformers ≥ 5 nests rope_theta in rope_parameters; earlier versions keep it at the top
        // (with rope_scaling for the non-default variants).
        let nested = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        let scaling = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling)
        ropeTheta = try nested?.ropeTheta ?? c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10_000
        ropeType = nested?.ropeType ?? scaling?.ropeType ?? "default"
        contextLength = try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? 2048
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? 0.02
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        attentionDropout = try c.decodeIfPresent(Float.self, forKey: .attentionDropout) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize); try c.encode(width, forKey: .width)
        try c.encode(mlpSize, forKey: .mlpSize); try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads); try c.encode(kvHeads, forKey: .kvHeads)
        try c.encode(headSize, forKey: .headSize); try c.encode(rmsNormEpsilon, forKey: .rmsNormEpsilon)
        try c.encode(ropeTheta, forKey: .ropeTheta); try c.encode(contextLength, forKey: .contextLength)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings); try c.encode(initializerRange, forKey: .initializerRange)
        try c.encode(attentionDropout, forKey: .attentionDropout)
    }

    /// Throws a `ModelError` naming every value that cannot make a working model.
    public func validate(path: String = "LLaMA configuration") throws {
        var v = ConfigValidator(path: path)
        for (name, value) in [("vocab_size", vocabSize), ("hidden_size", width), ("intermediate_size", mlpSize),
                              ("num_hidden_layers", layers), ("num_attention_heads", heads),
                              ("num_key_value_heads", kvHeads), ("head_dim", headSize),
                              ("max_position_embeddings", contextLength)] {
            v.require(value > 0, "\(name) must be positive (got \(value))")
        }
        v.require(kvHeads <= 0 || heads % kvHeads == 0,
                  "num_key_value_heads (\(kvHeads)) must divide num_attention_heads (\(heads))")
        v.require(headSize % 2 == 0, "head_dim (\(headSize)) must be even for rotary embedding")
        v.require(attentionDropout >= 0 && attentionDropout < 1, "attention_dropout must be in [0, 1) (got \(attentionDropout))")
        v.require(rmsNormEpsilon > 0, "rms_norm_eps must be positive (got \(rmsNormEpsilon))")
        v.require(ropeTheta > 0, "rope_theta must be positive (got \(ropeTheta))")
        v.require(ropeType == "default", "rope type '\(ropeType)' is not supported (only the default rotary embedding)")
        v.require(!attentionBias, "attention_bias = true is not supported")
        v.require(!mlpBias, "mlp_bias = true is not supported")
        v.require(hiddenAct == "silu", "hidden_act '\(hiddenAct)' is not supported (LLaMA's MLP uses silu)")
        try v.check()
    }

    /// The config.json transformers reads.
    public func huggingFaceJSON() throws -> Data {
        let object: [String: Any] = [
            "model_type": "llama", "architectures": ["LlamaForCausalLM"],
            "vocab_size": vocabSize, "hidden_size": width, "intermediate_size": mlpSize,
            "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kvHeads,
            "head_dim": headSize, "rms_norm_eps": Double(rmsNormEpsilon), "rope_theta": Double(ropeTheta),
            "rope_parameters": ["rope_theta": Double(ropeTheta), "rope_type": "default"],
            "max_position_embeddings": contextLength, "tie_word_embeddings": tieWordEmbeddings,
            "initializer_range": Double(initializerRange), "hidden_act": "silu", "attention_bias": false,
            "mlp_bias": false, "attention_dropout": Double(attentionDropout), "torch_dtype": "float32",
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
