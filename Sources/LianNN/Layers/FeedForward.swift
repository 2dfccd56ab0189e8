import LianTensor

/// GPT-2's MLP: c_fc (C → 4C), GELU (tanh form), c_proj (4C → C), Conv1D layout.
public final class GPT2MLP: Module {
    public let cFc: Linear, cProj: Linear
    public var residualDropout: Float = 0

    public init(width: Int, hidden: Int) {
        cFc = Linear(inputSize: width, outputSize: hidden, bias: true, layout: .inputsByOutputs)
        cProj = Linear(inputSize: hidden, outputSize: width, bias: true, layout: .inputsByOutputs)
    }

    public var children: [(name: String, module: any Module)] { [("c_fc", cFc), ("c_proj", cProj)] }

    public func callAsFunction(_ x: Tensor, dropout: DropoutSource? = nil) -> Tensor {
        let out: Tensor
        if cFc.isPlain && cProj.isPlain {
            // One op with GELU fused into the products; the same values as the three below.
            out = x.geluFeedForward(inputMajorWeight: cFc.weight.value, bias: cFc.bias?.value,
                                    outputWeight: cProj.weight.value, outputBias: cProj.bias?.value)
        } else {
            out = cProj(cFc(x).gelu())
        }
        return dropout?.apply(out, probability: residualDropout) ?? out
    }
}

/// LLaMA's SwiGLU MLP: down(silu(gate(x)) ⊙ up(x)).
public final class SwiGLUMLP: Module {
    public let gateProj: Linear, upProj: Linear, downProj: Linear

    public init(width: Int, hidden: Int, bias: Bool = false) {
        gateProj = Linear(inputSize: width, outputSize: hidden, bias: bias)
        upProj = Linear(inputSize: width, outputSize: hidden, bias: bias)
        downProj = Linear(inputSize: hidden, outputSize: width, bias: bias)
    }

    public var children: [(name: String, module: any Module)] {
        [("gate_proj", gateProj), ("up_proj", upProj), ("down_proj", downProj)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { downProj(gateProj(x).silu() * upProj(x)) }
}
