import ArgumentParser
import Foundation
import LianNN
import LianTokenizer
import LianTraining

/// `lian train`: train a GPT-2-architecture model from scratch on `lian data prepare` shards.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a GPT-2 or LLaMA model from scratch on token shards, with checkpoints and resume.",
        discussion: "Ctrl-C (or SIGTERM) writes a checkpoint after the current step and exits; --resume DIR continues bit for bit.")

    @Option(help: "A run.json with the training config (flags below override it).")
    var config: String?

    @Option(help: "Preset when there is no --config: tiny, small (GPT-2), llama-tiny, llama-small.")
    var preset: String = "tiny"

    @Option(help: "Vocabulary size of the preset's model (default: the tokenizer's, else 8192).")
    var vocabSize: Int?

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
    @Option(help: "Gradient accumulation: micro-batches per optimizer step.") var accumulation: Int?
    @Option(help: "Gradient accumulation to a token budget per optimizer step.") var tokensPerStep: Int?
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
                    let vocabulary = try vocabSize ?? tokenizer.map { try BPETokenizer(contentsOf: URL(fileURLWithPath: $0)).vocabularySize } ?? 8192
                    c = try TrainingPresets.config(preset, vocabularySize: vocabulary, data: data, out: out)
                }
                if let data { c.data = data }
                if let out { c.out = out }
                if let steps { c.steps = steps }
                if let batchSize { c.batchSize = batchSize }
                if let context { c.context = context }
                if let accumulation { c.accumulation = accumulation }
                if let tokensPerStep { c.tokensPerStep = tokensPerStep }
                if let learningRate { c.learningRate = learningRate; c.minimumLearningRate = min(c.minimumLearningRate, learningRate) }
                if let evalInterval { c.evalInterval = evalInterval }
                if let checkpointInterval { c.checkpointInterval = checkpointInterval }
                if let seed { c.seed = seed }
                try c.validate()
                trainer = try Trainer(config: c, tokenizerFile: tokenizer.map { URL(fileURLWithPath: $0) })
            }
        } catch let error as TrainingError { throw CLIError(error.description) }
        let c = trainer.config
        say("training a \(c.model.modelType) model of \(trainer.model.parameterCount) parameters for \(c.steps) steps of \(c.microBatches)×\(c.batchSize)×\(c.context) tokens → \(c.out)")
        let progress = TrainingProgress(config: c, firstStep: trainer.step)
        trainer.onStep = { progress.update($0); return true }
        InterruptSignal.install {
            FileHandle.standardError.write(Data("\ninterrupted: writing a checkpoint after this step (Ctrl-C again to quit at once)\n".utf8))
        }
        do {
            let last = try trainer.run()
            if let last { say("checkpoint: \(last.path)") }
            say("loss curve: \(URL(fileURLWithPath: c.out).appendingPathComponent("loss.svg").path)")
            if trainer.stoppedEarly, let last { say("stopped at step \(trainer.step) of \(c.steps); continue with: lian train --resume \(last.path)") }
        } catch let error as TrainingError { throw CLIError(error.description) }
    }
}
