import Foundation
import LianKernels
import LianTensor

/// A LoRA adapter on one linear layer: Δy = scale · dropout(x) · Aᵀ · Bᵀ, with A [r, in] and
/// B [out, r]. A starts random (uniform ±1/√in, PEFT's Kaiming-uniform default) and B at zero,
/// so an adapted model starts out equal to its base.
public final class LoRAAdapter {
    public let a: Parameter
    public let b: Parameter
    public let scale: Float
    public let dropout: Float

    public init(inputSize: Int, outputSize: Int, rank: Int, scale: Float, dropout: Float, rng: inout SeededRandom) {
        let bound = 1 / Float(inputSize).squareRoot()
        a = Parameter(Tensor.randomUniform([rank, inputSize], low: -bound, high: bound, rng: &rng))
        b = Parameter(Tensor.zeros([outputSize, rank]))
        self.scale = scale
        self.dropout = dropout
    }

    public var rank: Int { a.shape[0] }

    public func callAsFunction(_ x: Tensor, dropout source: DropoutSource?) -> Tensor {
        let input = source?.apply(x, probability: dropout) ?? x
        return input.linear(weight: a.value).linear(weight: b.value) * scale
    }
}
