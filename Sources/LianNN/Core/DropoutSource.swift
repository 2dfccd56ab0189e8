import LianKernels
import LianTensor

/// The randomness of a training forward pass: every dropout mask is drawn from this one seeded
/// generator, in the order the layers run, so a step is reproducible from the generator's state
/// (which a checkpoint saves). Pass none for evaluation and generation: no dropout then.
public final class DropoutSource {
    public var rng: SeededRandom

    public init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    /// x with elements zeroed with probability p (and the rest scaled by 1/(1−p)); x when p = 0.
    public func apply(_ x: Tensor, probability p: Float) -> Tensor {
        p > 0 ? x.dropout(probability: p, rng: &rng) : x
    }

    /// Dropout settings for one attention call (its masks get their own seed), nil when p = 0.
    public func attention(probability p: Float) -> AttentionDropout? {
        p > 0 ? AttentionDropout(probability: p, seed: rng.next()) : nil
    }
}
