import LianTensor

/// LayerNorm over the last axis, with a weight and (optionally) a bias.
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let eps: Float

    public init(size: Int, eps: Float = 1e-5, bias: Bool = true) {
        weight = Parameter(Tensor.ones([size]))
        self.bias = bias ? Parameter(Tensor.zeros([size])) : nil
        self.eps = eps
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.layerNorm(weight: weight.value, bias: bias?.value, eps: eps)
    }
}

/// RMSNorm over the last axis (LLaMA).
public final class RMSNorm: Module {
    public let weight: Parameter
    public let eps: Float

    public init(size: Int, eps: Float = 1e-6) {
        weight = Parameter(Tensor.ones([size]))
        self.eps = eps
    }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNorm(weight: weight.value, eps: eps) }
}

/// A table of vectors, one row per token id (or position).
public final class Embedding: Module {
    public let weight: Parameter

    public init(count: Int, size: Int) {
        weight = Parameter(Tensor.zeros([count, size]))
    }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    public func callAsFunction(_ ids: IndexTensor) -> Tensor { Tensor.embedding(weight.value, ids: ids) }
}
