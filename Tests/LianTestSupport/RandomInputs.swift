import LianKernels

/// Seeded uniform values in [low, high), for test inputs.
public func randomValues(_ count: Int, seed: UInt64, low: Float = -1, high: Float = 1) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<count).map { _ in low + (high - low) * rng.nextUniform() }
}
