import Foundation

/// The configuration of either architecture Lian builds, as one value: what a training config names
/// under `"model"` and what a checkpoint's trainer state records. In JSON it is the architecture's
/// own Hugging Face keys plus `"model_type": "gpt2" | "llama"` (gpt2 when absent, as before).
public enum ModelConfiguration: Codable, Equatable, Sendable {
    case gpt2(GPT2Config)
    case llama(LlamaConfig)

    enum TypeKey: String, CodingKey { case modelType = "model_type" }

    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decodeIfPresent(String.self, forKey: .modelType) ?? "gpt2"
        switch type {
        case "gpt2": self = .gpt2(try GPT2Config(from: decoder))
        case "llama": self = .llama(try LlamaConfig(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [TypeKey.modelType],
                                                   debugDescription: "model_type '\(type)' is not one Lian builds (gpt2, llama)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .gpt2(let config): try c.encode("gpt2", forKey: .modelType); try config.encode(to: encoder)
        case .llama(let config): try c.encode("llama", forKey: .modelType); try config.encode(to: encoder)
        }
    }

    public var modelType: String {
        switch self { case .gpt2: "gpt2"; case .llama: "llama" }
    }

    public var vocabularySize: Int {
        get { switch self { case .gpt2(let c): c.vocabSize; case .llama(let c): c.vocabSize } }
        set {
            switch self {
            case .gpt2(var c): c.vocabSize = newValue; self = .gpt2(c)
            case .llama(var c): c.vocabSize = newValue; self = .llama(c)
            }
        }
    }

    public var contextLength: Int {
        switch self { case .gpt2(let c): c.contextLength; case .llama(let c): c.contextLength }
    }

    public var layers: Int {
        switch self { case .gpt2(let c): c.layers; case .llama(let c): c.layers }
    }

    public var width: Int {
        switch self { case .gpt2(let c): c.width; case .llama(let c): c.width }
    }

    public func validate(path: String) throws {
        switch self {
        case .gpt2(let c): try c.validate(path: path)
        case .llama(let c): try c.validate(path: path)
        }
    }

    /// A freshly initialized model (GPT-2-style initialization drawn from `seed`).
    public func makeModel(seed: UInt64) throws -> any LanguageModel {
        switch self {
        case .gpt2(let c): try GPT2(c, seed: seed)
        case .llama(let c): try Llama(c, seed: seed)
        }
    }
}
