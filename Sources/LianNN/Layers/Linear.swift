import LianKernels
import LianTensor

/// How a linear layer's weight matrix is stored.
public enum WeightLayout: Sendable {
    /// [out, in], as PyTorch's `nn.Linear` (LLaMA's projections, language-model heads).
    case outputsByInputs
    /// [in, out], as GPT-2's `Conv1D` (`c_attn`, `c_proj`, `c_fc`).
    case inputsByOutputs
}

/// y = x·Wᵀ + b (or x·W + b for the [in, out] layout), plus, when one is attached, a LoRA
/// adapter's low-rank update. The base weight may be held 4-bit (NF4, for QLoRA): it is then
/// dequantized tile by tile inside the product and never exists whole in Float32.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let layout: WeightLayout
    public let inputSize: Int, outputSize: Int
    /// A low-rank adapter added to the output (its parameters appear as `lora_A.weight`,
    /// `lora_B.weight` under this layer's path, as PEFT names them).
    public var lora: LoRAAdapter?
    /// The base weight in NF4, when quantized; `weight` then holds no values and is not listed
    /// among the parameters.
    public private(set) var quantized: NF4Matrix?

    public init(inputSize: Int, outputSize: Int, bias: Bool, layout: WeightLayout = .outputsByInputs) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.layout = layout
        let shape = layout == .outputsByInputs ? [outputSize, inputSize] : [inputSize, outputSize]
        weight = Parameter(Tensor.zeros(shape))
        self.bias = bias ? Parameter(Tensor.zeros([outputSize])) : nil
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        (quantized == nil ? [("weight", weight)] : []) + (bias.map { [("bias", $0)] } ?? [])
            + (lora.map { [("lora_A.weight", $0.a), ("lora_B.weight", $0.b)] } ?? [])
    }

    /// Whether the layer is its Float32 weight (and bias) alone: no adapter, not quantized.
    public var isPlain: Bool { lora == nil && quantized == nil }

    /// The weight's shape as stored ([out, in] or [in, out]).
    public var weightShape: [Int] { layout == .outputsByInputs ? [outputSize, inputSize] : [inputSize, outputSize] }

    public func callAsFunction(_ x: Tensor, dropout: DropoutSource? = nil) -> Tensor {
        let base: Tensor
        if let quantized {
            base = x.linear(nf4Weight: quantized, inputMajor: layout == .inputsByOutputs, bias: bias?.value)
        } else {
            switch layout {
            case .outputsByInputs: base = x.linear(weight: weight.value, bias: bias?.value)
            case .inputsByOutputs: base = x.linear(inputMajorWeight: weight.value, bias: bias?.value)
            }
        }
        guard let lora else { return base }
        return base + lora(x, dropout: dropout)
    }

    /// Replaces the Float32 weight by its NF4 form (frozen; the Float32 values are released).
    public func quantize(doubleQuantization: Bool = true) {
        guard quantized == nil else { return }
        quantized = weight.value.withUnsafeBufferPointer { NF4Matrix(quantizing: $0, rows: weightShape[0], columns: weightShape[1],
                                                              doubleQuantization: doubleQuantization) }
        weight.value = Tensor.zeros([0])
        weight.isTrainable = false
    }

    /// The base weight as Float32 (dequantized when it is held in NF4).
    public var baseWeight: Tensor {
        guard let quantized else { return weight.value }
        return Tensor(shape: weightShape, values: quantized.dequantized())
    }

    /// Turns an NF4 base weight back into Float32 (the dequantized values).
    public func dequantize() {
        guard quantized != nil else { return }
        let w = baseWeight
        quantized = nil
        weight.value = w
        weight.isTrainable = false
    }

    /// Folds the adapter into the base weight (W += scale·B·A, transposed for the [in, out]
    /// layout) and removes it; a quantized base becomes Float32 again.
    public func mergeAdapter() {
        guard let lora else { return }
        var w = withNoGrad { baseWeight }
        let delta = withNoGrad { lora.b.value.matmul(lora.a.value) * lora.scale }            // [out, in]
        w = withNoGrad { w + (layout == .outputsByInputs ? delta : delta.transposed(0, 1)) }
        let trainable = weight.isTrainable || quantized != nil
        quantized = nil
        weight.value = w.detached()
        weight.isTrainable = trainable
        self.lora = nil
    }
}
