import ArgumentParser
import Foundation
import LianTraining

/// Flags that override a training config's schedule, shared by `lian train` and `lian distill`.
struct TrainingOverrides: ParsableArguments {
    @Option var steps: Int?
    @Option var batchSize: Int?
    @Option var context: Int?
    @Option var learningRate: Double?
    @Option(help: "Gradient accumulation: micro-batches per optimizer step.") var accumulation: Int?
    @Option(help: "Gradient accumulation to a token budget per optimizer step.") var tokensPerStep: Int?
    @Option var evalInterval: Int?
    @Option var checkpointInterval: Int?
    @Option var seed: UInt64?

    func apply(to c: inout TrainingConfig) {
        if let steps { c.steps = steps }
        if let batchSize { c.batchSize = batchSize }
        if let context { c.context = context }
        if let accumulation { c.accumulation = accumulation }
        if let tokensPerStep { c.tokensPerStep = tokensPerStep }
        if let learningRate { c.learningRate = learningRate; c.minimumLearningRate = min(c.minimumLearningRate, learningRate) }
        if let evalInterval { c.evalInterval = evalInterval }
        if let checkpointInterval { c.checkpointInterval = checkpointInterval }
        if let seed { c.seed = seed }
    }
}

/// Runs a trainer with the progress line and Ctrl-C handling, then says where the checkpoint and
/// the loss plot are (and how to continue when it stopped early).
func runWithProgress(_ trainer: Trainer, command: String) throws {
    let c = trainer.config
    let progress = TrainingProgress(config: c, firstStep: trainer.step)
    trainer.onStep = { progress.update($0); return true }
    InterruptSignal.install {
        FileHandle.standardError.write(Data("\ninterrupted: writing a checkpoint after this step (Ctrl-C again to quit at once)\n".utf8))
    }
    do {
        let last = try trainer.run()
        if let last { say("checkpoint: \(last.path)") }
        say("loss curve: \(URL(fileURLWithPath: c.out).appendingPathComponent("loss.svg").path)")
        if trainer.stoppedEarly, let last { say("stopped at step \(trainer.step) of \(c.steps); continue with: lian \(command) --resume \(last.path)") }
    } catch let error as TrainingError { throw CLIError(error.description) }
}
