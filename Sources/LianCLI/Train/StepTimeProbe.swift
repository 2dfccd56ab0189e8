import Foundation
import LianTraining

/// Measures how long one optimizer step of `config` takes on this machine, so that a run can be
/// sized to a wall-clock budget: 24 steps on a throwaway copy, the first 8 (buffers and threads
/// warming up) not timed.
enum StepTimeProbe {
    static func secondsPerStep(_ config: TrainingConfig, tokenizer: URL?, scratch: URL) throws -> Double {
        var probe = config
        probe.steps = 24; probe.out = scratch.path; probe.checkpointInterval = 1000; probe.evalInterval = 1000
        let trainer = try Trainer(config: probe, tokenizerFile: tokenizer)
        var stamps: [Date] = []
        trainer.onStep = { _ in stamps.append(Date()); return true }
        trainer.stopRequested = { false }
        _ = try? trainer.run()
        try? FileManager.default.removeItem(at: scratch)
        return stamps.count >= 24 ? stamps[23].timeIntervalSince(stamps[7]) / 16 : 1
    }
}
