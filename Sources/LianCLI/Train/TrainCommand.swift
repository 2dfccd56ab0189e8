import ArgumentParser
import Foundation
import LianNN
import LianTraining

/// `lian train`: train a GPT-2-architecture model from scratch on `lian data prepare` shards.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a model on token shards (GPT-2 architecture), with checkpoints and resume.")

    @Option(help: "A run.json with the training config (flags below override it).")
    var config: String?

    @Option(help: "Model preset when there is no --config: tiny or small.")
    var preset: String = "tiny"

    @Option(help: "Folder with train.bin and val.bin.")
    var data: String?

    @Option(help: "Output folder for checkpoints and metrics.jsonl.")
    var out: String?

    @Option(help: "tokenizer.json the shards were made with (copied into checkpoints; enables bits per byte).")
    var tokenizer: String?

    @Option(help: "Continue from this checkpoint folder.")
    var resume: String?

    @Option var steps: Int?
    @Option var batchSize: Int?
    @Option var context: Int?
    @Option var learningRate: Double?
    @Option var evalInterval: Int?
    @Option var checkpointInterval: Int?
    @Option var seed: UInt64?

    func run() throws {
        let trainer: Trainer
        do {
            if let resume {
                trainer = try Trainer.resume(from: URL(fileURLWithPath: resume))
            } else {
                var c: TrainingConfig
                if let config {
                    c = try TrainingConfig.load(URL(fileURLWithPath: config))
                } else {
                    guard let data, let out else { throw ValidationError("give --config run.json, or --data DIR and --out DIR") }
                    c = try Self.preset(preset, data: data, out: out)
                }
                if let data { c.data = data }
                if let out { c.out = out }
                if let steps { c.steps = steps }
                if let batchSize { c.batchSize = batchSize }
                if let context { c.context = context }
                if let learningRate { c.learningRate = learningRate; c.minimumLearningRate = min(c.minimumLearningRate, learningRate) }
                if let evalInterval { c.evalInterval = evalInterval }
                if let checkpointInterval { c.checkpointInterval = checkpointInterval }
                if let seed { c.seed = seed }
                try c.validate()
                trainer = try Trainer(config: c, tokenizerFile: tokenizer.map { URL(fileURLWithPath: $0) })
            }
        } catch let error as TrainingError { throw CLIError(error.description) }
        let c = trainer.config
        print("training \(trainer.model.parameterCount) parameters for \(c.steps) steps of \(c.batchSize)×\(c.context) tokens → \(c.out)")
        let start = Date()
        let firstStep = trainer.step
        trainer.onStep = { m in
            let elapsed = Date().timeIntervalSince(start)
            let done = m.step - firstStep
            let tokensPerSecond = Double(done * c.batchSize * c.context * c.accumulation) / max(elapsed, 1e-9)
            let eta = Double(c.steps - m.step) * elapsed / Double(max(1, done))
            var line = String(format: "step %d/%d  loss %.4f  lr %.2e  %.0f tok/s  ETA %@", m.step, c.steps, m.loss ?? .nan,
                              Double(m.learningRate), tokensPerSecond, ProgressLine.duration(eta) as NSString)
            if let v = m.validationLoss { line += String(format: "  val %.4f", v) }
            if let b = m.validationBitsPerByte { line += String(format: " (%.3f bits/byte)", b) }
            if m.skipped { line += "  [skipped: non-finite]" }
            let newline = m.validationLoss != nil || m.step == c.steps
            FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K" + (newline ? "\n" : "")).utf8))
            return true
        }
        do {
            if let last = try trainer.run() { print("checkpoint: \(last.path)") }
        } catch let error as TrainingError { throw CLIError(error.description) }
    }

    static func preset(_ name: String, data: String, out: String) throws -> TrainingConfig {
        switch name {
        case "tiny":
            var c = TrainingConfig(model: GPT2Config(vocabSize: 8192, contextLength: 128, width: 128, layers: 4, heads: 4), data: data, out: out)
            c.batchSize = 16; c.context = 128; c.steps = 1000; c.learningRate = 2e-3; c.minimumLearningRate = 2e-4
            return c
        case "small":
            var c = TrainingConfig(model: GPT2Config(vocabSize: 8192, contextLength: 256, width: 384, layers: 6, heads: 6), data: data, out: out)
            c.batchSize = 8; c.context = 256; c.steps = 2000; c.learningRate = 1e-3; c.minimumLearningRate = 1e-4
            return c
        default:
            throw ValidationError("--preset '\(name)' is unknown; choose tiny or small")
        }
    }
}
