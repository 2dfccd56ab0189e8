import Foundation

/// The learning rate as a function of the step (0-based).
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// The same rate every step.
    case constant(Float)
    /// Linear warmup from 0 to `peak` over `warmup` steps, then cosine decay to `floor` at `total`
    /// steps (and `floor` after).
    case warmupCosine(peak: Float, warmup: Int, total: Int, floor: Float)
    /// Warmup-stable-decay: linear warmup to `peak`, `peak` held until `decayStart`, then a linear
    /// decay to `floor` at `total` steps.
    case warmupStableDecay(peak: Float, warmup: Int, decayStart: Int, total: Int, floor: Float)

    public func rate(at step: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case let .warmupCosine(peak, warmup, total, floor):
            if step < warmup { return peak * Float(step + 1) / Float(warmup) }
            if step >= total { return floor }
            let progress = Double(step - warmup) / Double(max(1, total - warmup))
            return floor + (peak - floor) * Float(0.5 * (1 + cos(Double.pi * progress)))
        case let .warmupStableDecay(peak, warmup, decayStart, total, floor):
            if step < warmup { return peak * Float(step + 1) / Float(warmup) }
            if step < decayStart { return peak }
            if step >= total { return floor }
            let progress = Float(step - decayStart) / Float(max(1, total - decayStart))
            return peak + (floor - peak) * progress
        }
    }
}
