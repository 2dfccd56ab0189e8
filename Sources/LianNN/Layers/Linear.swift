import LianTensor

/// How a linear layer's weight matrix is stored.
public enum WeightLayout: Sendable {
    /// [out, in], as PyTorch's `nn.Linear` (LLaMA's projections, language-model heads).
    case outputsByInputs
    /// [in, out], as GPT-2's `Conv1D` (`c_attn`, `c_proj`, `c_fc`).
    case inputsByOutputs
}

/// y = x·Wᵀ + b (or x·W + b for the [in, out] layout).
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let layout: WeightLayout
    public let inputSize: Int, outputSize: Int

    public init(inputSize: Int, outputSize: Int, bias: Bool, layout: WeightLayout = .outputsByInputs) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.layout = layout
        let shape = layout == .outputsByInputs ? [outputSize, inputSize] : [inputSize, outputSize]
        weight = Parameter(Tensor.zeros(shape))
        self.bias = bias ? Parameter(Tensor.zeros([outputSize])) : nil
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch layout {
        case .outputsByInputs: return x.linear(weight: weight.value, bias: bias?.value)
        case .inputsByOutputs: return x.linear(inputMajorWeight: weight.value, bias: bias?.value)
        }
    }
}
