/// Sizes a run to a wall-clock budget from the run's own steps.
///
/// A step-time probe on a throwaway copy (a few steps, before the run) gives a first length, but
/// on a shared machine it reads a different minute from the one the run trains in, and it missed
/// by −10% to +4% in the time-to-quality runs of BENCHMARKS.md. So the run times its own steps
/// from `firstTimedStep` (the first ones warm up buffers, caches and threads) to `sizingStep` —
/// the end of warmup, up to which no learning rate depends on the total — and sets its length then:
/// the steps done, plus as many more as the rest of the budget holds at the measured pace.
public struct TimeBudget: Sendable {
    /// Seconds of training the run may take.
    public let seconds: Double
    /// The step whose end starts the timing.
    public let firstTimedStep: Int
    /// The step after which the length is set: the end of warmup, and at least 20 steps in.
    public let sizingStep: Int
    private var clockAtFirstTimedStep: Double?

    public init(seconds: Double, warmupSteps: Int) {
        self.seconds = seconds
        sizingStep = max(warmupSteps, 20)
        firstTimedStep = min(5, sizingStep / 4)
    }

    /// Call after every step with the steps done and the seconds of training they took (the run's
    /// clock); returns the run's new length once, after `sizingStep`.
    public mutating func totalSteps(afterStep step: Int, clock: Double) -> Int? {
        if step == firstTimedStep { clockAtFirstTimedStep = clock }
        guard step == sizingStep, let start = clockAtFirstTimedStep, clock > start else { return nil }
        let secondsPerStep = (clock - start) / Double(step - firstTimedStep)
        let more = ((seconds - clock) / secondsPerStep).rounded(.down)
        return step + Int(max(1, min(more, 1e9)))
    }
}
