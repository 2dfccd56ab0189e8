import Foundation
import LianNN

/// A fine-tuning run (`lian finetune`): a base model folder, chat/instruction data, and how to
/// adapt it. Stored in each checkpoint's trainer state, so `--resume` rebuilds the same run.
public struct FineTuneConfig: Codable, Equatable, Sendable {
    public enum Method: String, Codable, Sendable, CaseIterable { case full, lora, qlora }

    /// A Hugging Face model folder (GPT-2 or LLaMA family).
    public var base: String
    /// JSONL with `messages` or `instruction`/`output` per line.
    public var data: String
    public var out: String
    /// tokenizer.json (default: the base folder's).
    public var tokenizer: String?
    public var method: Method = .lora
    public var loraRank = 8
    public var loraAlpha: Float = 16
    public var loraDropout: Float = 0.05
    /// Layer names or groups (attention, mlp, all-linear).
    public var loraTargets = ["attention"]
    public var loraLayers: [Int]?
    public var rankStabilized = false
    public var batchSize = 8
    public var context = 256
    public var steps = 200
    public var learningRate = 2e-4
    public var minimumLearningRate = 2e-5
    public var warmupSteps = 10
    public var weightDecay = 0.0
    public var gradientClip: Float = 1.0
    /// Fraction of the examples held out for validation.
    public var validationFraction = 0.1
    public var evalInterval = 50
    public var checkpointInterval = 100
    public var keepCheckpoints = 2
    public var seed: UInt64 = 1337

    public init(base: String, data: String, out: String) { self.base = base; self.data = data; self.out = out }

    enum CodingKeys: String, CodingKey {
        case base, data, out, tokenizer, method, steps, context, seed
        case loraRank = "lora_rank", loraAlpha = "lora_alpha", loraDropout = "lora_dropout", loraTargets = "lora_targets"
        case loraLayers = "lora_layers", rankStabilized = "use_rslora", batchSize = "batch_size"
        case learningRate = "learning_rate", minimumLearningRate = "min_learning_rate", warmupSteps = "warmup_steps"
        case weightDecay = "weight_decay", gradientClip = "grad_clip", validationFraction = "validation_fraction"
        case evalInterval = "eval_interval", checkpointInterval = "checkpoint_interval", keepCheckpoints = "keep_checkpoints"
    }

    public var lora: LoRAConfig {
        LoRAConfig(rank: loraRank, alpha: loraAlpha, dropout: loraDropout, targetModules: loraTargets, layers: loraLayers,
                   rankStabilized: rankStabilized)
    }

    public func validate(path: String = "fine-tuning config") throws {
        var problems: [String] = []
        func require(_ ok: Bool, _ message: String) { if !ok { problems.append(message) } }
        require(batchSize > 0 && context > 1 && steps > 0, "batch_size and steps must be positive, context above 1")
        require(learningRate > 0 && minimumLearningRate >= 0 && minimumLearningRate <= learningRate, "need 0 ≤ min_learning_rate ≤ learning_rate, learning_rate > 0")
        require(validationFraction >= 0 && validationFraction < 1, "validation_fraction must be in [0, 1)")
        require(evalInterval > 0 && checkpointInterval > 0 && keepCheckpoints > 0 && warmupSteps >= 0, "intervals and counts must be positive")
        if !problems.isEmpty { throw TrainingError(path: path, problems.joined(separator: "; ")) }
        if method != .full {
            do { try lora.validate(path: path) } catch let e as ModelError { throw TrainingError(path: path, e.message) }
        }
    }
}
