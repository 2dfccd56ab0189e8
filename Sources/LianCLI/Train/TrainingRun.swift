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

/// A training loop the CLI runs with a progress line: `lian train` and `lian distill`'s
/// `Trainer`, `lian finetune`'s `FineTuner`.
protocol ProgressRun: AnyObject {
    var step: Int { get }
    var stoppedEarly: Bool { get }
    var onStep: ((TrainingMetric) -> Bool)? { get set }
    func run() throws -> URL?
}

extension Trainer: ProgressRun {}
extension FineTuner: ProgressRun {}

/// Runs a training loop with the progress line and Ctrl-C handling, then says where the
/// checkpoint and the loss plot are (and how to continue when it stopped early). `config` gives
/// the progress line its schedule; returns the last checkpoint.
@discardableResult
func runWithProgress(_ run: some ProgressRun, config c: TrainingConfig, command: String) throws -> URL? {
    let progress = TrainingProgress(config: c, firstStep: run.step)
    run.onStep = { progress.update($0); return true }
    InterruptSignal.install {
        FileHandle.standardError.write(Data("\ninterrupted: writing a checkpoint after this step (Ctrl-C again to quit at once)\n".utf8))
    }
    do {
        let last = try run.run()
        if let last { say("checkpoint: \(last.path)") }
        say("loss curve: \(URL(fileURLWithPath: c.out).appendingPathComponent("loss.svg").path)")
        if run.stoppedEarly, let last { say("stopped at step \(run.step) of \(c.steps); continue with: lian \(command) --resume \(last.path)") }
        return last
    } catch let error as TrainingError { throw CLIError(error.description) }
}
