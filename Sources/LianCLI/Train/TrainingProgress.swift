import Foundation
import LianKernels
import LianTraining

/// The progress line of a training run: step, loss, a sparkline of recent losses, tokens/s, model
/// FLOPs utilization against the machine's measured FMA peak, and the ETA. Validation results and
/// skipped steps get a line of their own.
final class TrainingProgress {
    /// The run's settings (replaced when a run sized to a time budget resizes itself).
    var config: TrainingConfig
    let flopsPerToken: Double
    let peakFLOPs: Double
    let start = Date()
    let firstStep: Int
    var recentLosses: [Float] = []
    var lastDraw = Date.distantPast

    init(config: TrainingConfig, firstStep: Int) {
        self.config = config
        self.firstStep = firstStep
        flopsPerToken = config.model.trainingFLOPsPerToken(context: config.context)
        // A short measurement (~0.2 s): MFU is reported against what this machine's cores can do.
        peakFLOPs = MachinePeak.fmaGFLOPs(threads: Parallelism.threadCount, seconds: 0.2) * 1e9
    }

    /// ▁▂▃▄▅▆▇█ over the last 24 losses, scaled between their min and max.
    static func sparkline(_ values: [Float]) -> String {
        let bars = Array("▁▂▃▄▅▆▇█")
        guard let low = values.min(), let high = values.max(), high > low else { return String(repeating: "▄", count: values.count) }
        return String(values.map { bars[min(7, Int((($0 - low) / (high - low)) * 7.999))] })
    }

    func update(_ m: TrainingMetric) {
        if let loss = m.loss, loss.isFinite { recentLosses.append(loss); if recentLosses.count > 24 { recentLosses.removeFirst() } }
        let now = Date()
        let important = m.validationLoss != nil || m.skipped || m.step == config.steps
        guard important || now.timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let done = m.step - firstStep
        let tokensPerSecond = Double(done * config.tokensPerOptimizerStep) / max(elapsed, 1e-9)
        let mfu = tokensPerSecond * flopsPerToken / peakFLOPs
        let eta = Double(config.steps - m.step) * elapsed / Double(max(1, done))
        var line = String(format: "step %d/%d  loss %.4f %@  lr %.2e  %.0f tok/s  MFU %.0f%%  ETA %@", m.step, config.steps,
                          m.loss ?? .nan, Self.sparkline(recentLosses) as NSString, Double(m.learningRate), tokensPerSecond,
                          100 * mfu, ProgressLine.duration(eta) as NSString)
        if let v = m.validationLoss { line += String(format: "  val %.4f", v) }
        if let b = m.validationBitsPerByte { line += String(format: " (%.3f bits/byte)", b) }
        if let reason = m.skipReason { line += "  [step skipped: \(reason)]" }
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K" + (important ? "\n" : "")).utf8))
    }
}
