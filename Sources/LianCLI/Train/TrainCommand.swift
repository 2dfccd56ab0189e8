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

    @OptionGroup var overrides: TrainingOverrides

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
                overrides.apply(to: &c)
                try c.validate()
                trainer = try Trainer(config: c, tokenizerFile: tokenizer.map { URL(fileURLWithPath: $0) })
            }
        } catch let error as TrainingError { throw CLIError(error.description) }
        let c = trainer.config
        say("training a \(c.model.modelType) model of \(trainer.model.parameterCount) parameters for \(c.steps) steps of \(c.microBatches)×\(c.batchSize)×\(c.context) tokens → \(c.out)")
        try runWithProgress(trainer, config: trainer.config, command: "train")
    }
}
