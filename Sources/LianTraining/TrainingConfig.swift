import Foundation
import LianNN
import LianOptim

/// Everything a training run needs, as a JSON file (`lian train --config run.json`) or flags.
/// Keys are snake_case; unknown keys are refused with a suggestion (a typo must not silently fall
/// back to a default).
public struct TrainingConfig: Codable, Equatable, Sendable {
    /// The model to train from scratch: a GPT-2 or LLaMA configuration with transformers' keys
    /// (`"model_type": "llama"` selects LLaMA; GPT-2 when absent).
    public var model: ModelConfiguration
    /// Folder with train.bin and val.bin from `lian data prepare`.
    public var data: String
    /// Folder for checkpoints, metrics.jsonl.
    public var out: String
    public var batchSize = 16
    public var context = 128
    /// Micro-batches summed per optimizer step (gradient accumulation).
    public var accumulation = 1
    /// A token budget per optimizer step instead: accumulation becomes ⌈tokens / (batch·context)⌉.
    public var tokensPerStep: Int?
    public var steps = 1000
    public var learningRate = 1e-3
    public var minimumLearningRate = 1e-4
    public var warmupSteps = 50
    /// "cosine" or "wsd" (warmup-stable-decay, decaying over the last 20%).
    public var schedule = "cosine"
    public var weightDecay = 0.1
    public var beta1 = 0.9
    public var beta2 = 0.95
    public var gradientClip: Float = 1.0
    public var evalInterval = 100
    public var evalBatches = 10
    public var checkpointInterval = 200
    /// How many of the most recent checkpoints to keep (the best is kept as well).
    public var keepCheckpoints = 2
    public var seed: UInt64 = 1337
    /// A step whose loss lies more than this many standard deviations above the recent losses is
    /// skipped as a spike (0 turns the check off).
    public var lossSpikeZ = 6.0
    /// This many skipped steps in a row stop the run with a diagnosis.
    public var maxConsecutiveSkips = 5
    /// Learn from a teacher model as well as from the data (see `DistillationConfig`).
    public var distillation: DistillationConfig?

    public init(model: ModelConfiguration, data: String, out: String) {
        self.model = model; self.data = data; self.out = out
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, data, out, context, accumulation, steps, schedule, seed
        case batchSize = "batch_size", learningRate = "learning_rate", minimumLearningRate = "min_learning_rate"
        case warmupSteps = "warmup_steps", weightDecay = "weight_decay", beta1, beta2
        case gradientClip = "grad_clip", evalInterval = "eval_interval", evalBatches = "eval_batches"
        case checkpointInterval = "checkpoint_interval", keepCheckpoints = "keep_checkpoints"
        case tokensPerStep = "tokens_per_step", lossSpikeZ = "loss_spike_z", maxConsecutiveSkips = "max_consecutive_skips"
        case distillation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TrainingConfig(model: .gpt2(GPT2Config(vocabSize: 1, contextLength: 1, width: 1, layers: 1, heads: 1)), data: "", out: "")
        model = try c.decode(ModelConfiguration.self, forKey: .model)
        data = try c.decode(String.self, forKey: .data)
        out = try c.decode(String.self, forKey: .out)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? defaults.batchSize
        context = try c.decodeIfPresent(Int.self, forKey: .context) ?? defaults.context
        accumulation = try c.decodeIfPresent(Int.self, forKey: .accumulation) ?? defaults.accumulation
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? defaults.steps
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? defaults.learningRate
        minimumLearningRate = try c.decodeIfPresent(Double.self, forKey: .minimumLearningRate) ?? defaults.minimumLearningRate
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? defaults.warmupSteps
        schedule = try c.decodeIfPresent(String.self, forKey: .schedule) ?? defaults.schedule
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? defaults.weightDecay
        beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? defaults.beta1
        beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? defaults.beta2
        gradientClip = try c.decodeIfPresent(Float.self, forKey: .gradientClip) ?? defaults.gradientClip
        evalInterval = try c.decodeIfPresent(Int.self, forKey: .evalInterval) ?? defaults.evalInterval
        evalBatches = try c.decodeIfPresent(Int.self, forKey: .evalBatches) ?? defaults.evalBatches
        checkpointInterval = try c.decodeIfPresent(Int.self, forKey: .checkpointInterval) ?? defaults.checkpointInterval
        keepCheckpoints = try c.decodeIfPresent(Int.self, forKey: .keepCheckpoints) ?? defaults.keepCheckpoints
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed
        tokensPerStep = try c.decodeIfPresent(Int.self, forKey: .tokensPerStep)
        lossSpikeZ = try c.decodeIfPresent(Double.self, forKey: .lossSpikeZ) ?? defaults.lossSpikeZ
        maxConsecutiveSkips = try c.decodeIfPresent(Int.self, forKey: .maxConsecutiveSkips) ?? defaults.maxConsecutiveSkips
        distillation = try c.decodeIfPresent(DistillationConfig.self, forKey: .distillation)
    }

    /// Micro-batches per optimizer step: from `tokens_per_step` when given, else `accumulation`.
    public var microBatches: Int {
        guard let tokensPerStep else { return accumulation }
        let perBatch = batchSize * context
        return max(1, (tokensPerStep + perBatch - 1) / perBatch)
    }

    /// Tokens each optimizer step trains on.
    public var tokensPerOptimizerStep: Int { microBatches * batchSize * context }

    /// Reads a config file, refusing unknown keys (with the closest known key as a suggestion).
    public static func load(_ url: URL) throws -> TrainingConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TrainingError(path: url.path, "cannot read the config (\(error.localizedDescription))") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingError(path: url.path, "is not a JSON object")
        }
        let known = CodingKeys.allCases.map(\.rawValue)
        for key in object.keys where !known.contains(key) {
            let suggestion = known.min { editDistance($0, key) < editDistance($1, key) }!
            throw TrainingError(path: url.path, "unknown key '\(key)'; did you mean '\(suggestion)'?")
        }
        do {
            let config = try JSONDecoder().decode(TrainingConfig.self, from: data)
            try config.validate(path: url.path)
            return config
        } catch let error as TrainingError { throw error } catch {
            throw TrainingError(path: url.path, "cannot be read as a training config: \(error)")
        }
    }

    public func validate(path: String = "training config") throws {
        var problems: [String] = []
        func require(_ ok: Bool, _ message: String) { if !ok { problems.append(message) } }
        require(batchSize > 0, "batch_size must be positive")
        require(context > 0 && context <= model.contextLength, "context must be in 1...\(model.contextLength) (the model's context length)")
        require(accumulation > 0, "accumulation must be positive")
        require(tokensPerStep.map { $0 > 0 } ?? true, "tokens_per_step must be positive")
        require(lossSpikeZ >= 0, "loss_spike_z must not be negative (0 turns the spike check off)")
        require(maxConsecutiveSkips > 0, "max_consecutive_skips must be positive")
        require(steps > 0, "steps must be positive")
        require(learningRate > 0 && minimumLearningRate >= 0 && minimumLearningRate <= learningRate, "need 0 ≤ min_learning_rate ≤ learning_rate, learning_rate > 0")
        require(warmupSteps >= 0, "warmup_steps must not be negative")
        require(["cosine", "wsd"].contains(schedule), "schedule must be cosine or wsd, not '\(schedule)'")
        require(evalInterval > 0 && evalBatches > 0 && checkpointInterval > 0 && keepCheckpoints > 0, "intervals and counts must be positive")
        if !problems.isEmpty { throw TrainingError(path: path, problems.joined(separator: "; ")) }
        try distillation?.validate(path: path)
        do { try model.validate(path: path) } catch let e as ModelError { throw TrainingError(path: path, e.message) }
    }

    public var learningRateSchedule: LearningRateSchedule {
        schedule == "wsd"
            ? .warmupStableDecay(peak: Float(learningRate), warmup: warmupSteps, decayStart: steps * 4 / 5, total: steps, floor: Float(minimumLearningRate))
            : .warmupCosine(peak: Float(learningRate), warmup: warmupSteps, total: steps, floor: Float(minimumLearningRate))
    }
}

/// Levenshtein distance, for "did you mean".
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1...max(1, b.count) where !b.isEmpty {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}

/// A training run that cannot start or continue; names the file.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}
