import LianKernels

extension Tensor {
    /// A tensor of `shape` with every element `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.mutablePointer.update(repeating: value, count: t.count)
        return t
    }

    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// Normal(mean, std) samples drawn from `rng` in row-major order.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout SeededRandom) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.mutablePointer[i] = mean + std * rng.nextNormal() }
        return t
    }

    /// Uniform samples in [low, high) drawn from `rng` in row-major order.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout SeededRandom) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.mutablePointer[i] = low + (high - low) * rng.nextUniform() }
        return t
    }

    /// 0, 1, ..., n−1 as floats.
    public static func arange(_ n: Int) -> Tensor {
        Tensor(shape: [n], values: (0..<n).map(Float.init))
    }
}
