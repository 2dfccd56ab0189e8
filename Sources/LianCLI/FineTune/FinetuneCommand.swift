import ArgumentParser
import Foundation
import LianNN
import LianTraining

/// `lian finetune`: adapt a base model to chat/instruction data, fully or with LoRA / QLoRA.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a model on chat/instruction JSONL: full, LoRA or QLoRA (NF4 base), PEFT adapters.",
        discussion: """
        Data: one JSON object per line, {"messages": [{"role": "user", "content": ...}, {"role": "assistant", ...}]} \
        or {"instruction": ..., "input": ..., "output": ...}. Only assistant tokens are trained. \
        Ctrl-C writes a checkpoint; --resume DIR continues bit for bit.
        """)

    @Option(help: "Base model: a Hugging Face folder (a lian checkpoint, or a GPT-2/LLaMA model).") var base: String?
    @Option(help: "Chat or instruction JSONL.") var data: String?
    @Option(help: "Output folder for checkpoints, metrics.jsonl and loss.svg.") var out: String?
    @Option(help: "tokenizer.json (default: the base folder's).") var tokenizer: String?
    @Option(help: "full, lora or qlora.") var method: String = "lora"
    @Option(help: "LoRA rank r.") var rank: Int = 8
    @Option(help: "LoRA alpha (scale = alpha / r).") var alpha: Float = 16
    @Option(help: "LoRA dropout.") var loraDropout: Float = 0.05
    @Option(parsing: .upToNextOption, help: "Layers to adapt: names (q_proj, c_attn, ...) or attention, mlp, all-linear.")
    var targets: [String] = ["attention"]
    @Option(parsing: .upToNextOption, help: "Only these decoder layers (default: all).") var layers: [Int] = []
    @Flag(help: "Rank-stabilized LoRA: scale = alpha / √r.") var rslora = false
    @Option var steps: Int = 200
    @Option var batchSize: Int = 8
    @Option var context: Int = 256
    @Option(help: "Peak learning rate (default 2e-4 for LoRA/QLoRA, 5e-5 for full).") var learningRate: Double?
    @Option var warmupSteps: Int = 10
    @Option var evalInterval: Int = 50
    @Option var checkpointInterval: Int = 100
    @Option var validationFraction: Double = 0.1
    @Option var seed: UInt64 = 1337
    @Option(help: "Continue from this checkpoint folder.") var resume: String?

    func run() throws {
        let tuner: FineTuner
        do {
            if let resume {
                tuner = try FineTuner.resume(from: URL(fileURLWithPath: resume))
            } else {
                guard let base, let data, let out else { throw ValidationError("give --base DIR, --data FILE and --out DIR (or --resume CHECKPOINT)") }
                guard let m = FineTuneConfig.Method(rawValue: method) else { throw ValidationError("--method must be full, lora or qlora") }
                var c = FineTuneConfig(base: base, data: data, out: out)
                c.tokenizer = tokenizer; c.method = m
                c.loraRank = rank; c.loraAlpha = alpha; c.loraDropout = loraDropout; c.loraTargets = targets
                c.loraLayers = layers.isEmpty ? nil : layers; c.rankStabilized = rslora
                c.steps = steps; c.batchSize = batchSize; c.context = context
                c.learningRate = learningRate ?? (m == .full ? 5e-5 : 2e-4); c.minimumLearningRate = c.learningRate / 10
                c.warmupSteps = warmupSteps; c.evalInterval = evalInterval; c.checkpointInterval = checkpointInterval
                c.validationFraction = validationFraction; c.seed = seed
                tuner = try FineTuner(config: c)
            }
        } catch let error as TrainingError { throw CLIError(error.description) }
        let c = tuner.config
        let trainable = tuner.model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count }
        let total = c.method == .full ? tuner.model.parameterCount : tuner.model.configuration.parameterCount
        say("\(c.method.rawValue) fine-tuning of \(c.base): \(trainable) trainable parameters of \(total) (\(String(format: "%.2f", 100 * Double(trainable) / Double(total)))%)")
        say("data: \(tuner.train.rows.count) packed rows of \(c.context) tokens (\(tuner.train.trainedTokens) trained assistant tokens)"
            + (tuner.validation.map { ", \($0.rows.count) validation rows" } ?? "")
            + (tuner.train.truncated > 0 ? "; \(tuner.train.truncated) examples longer than the context were cut" : "")
            + "; chat template: \(tuner.template.style.rawValue)")
        if tuner.step == 0, let v = tuner.evaluate() { say(String(format: "validation loss before: %.4f", v)) }
        var progressConfig = TrainingConfig(model: tuner.model.configuration, data: c.data, out: c.out)
        progressConfig.steps = c.steps; progressConfig.batchSize = c.batchSize; progressConfig.context = c.context
        if let last = try runWithProgress(tuner, config: progressConfig, command: "finetune"), c.method != .full {
            say("try it: lian chat --model \(c.base) --adapter \(last.path)\nmerge it: lian merge --base \(c.base) --adapter \(last.path) --out merged")
        }
    }
}
