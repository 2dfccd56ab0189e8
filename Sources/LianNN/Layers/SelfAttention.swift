import LianTensor

// Causal self-attention blocks. B = batch, T = time, C = width, H = query heads,
// G = key/value heads, D = head size.

/// GPT-2's attention: one fused projection c_attn [C, 3C] (Conv1D layout) to q, k, v; causal
/// multi-head attention; output projection c_proj.
public final class GPT2Attention: Module {
    public let cAttn: Linear
    public let cProj: Linear
    public let heads: Int
    public var attentionDropout: Float = 0, residualDropout: Float = 0

    public init(width: Int, heads: Int) {
        cAttn = Linear(inputSize: width, outputSize: 3 * width, bias: true, layout: .inputsByOutputs)
        cProj = Linear(inputSize: width, outputSize: width, bias: true, layout: .inputsByOutputs)
        self.heads = heads
    }

    public var children: [(name: String, module: any Module)] { [("c_attn", cAttn), ("c_proj", cProj)] }

    public func callAsFunction(_ x: Tensor, dropout: DropoutSource? = nil) -> Tensor {
        let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
        let qkv = cAttn(x)                                                   // (B, T, 3C): q | k | v
        let y = Tensor.scaledDotProductAttention(packedQKV: qkv, heads: heads, kvHeads: heads,
                                                 dropout: dropout?.attention(probability: attentionDropout))   // (B, T, H, D)
        let out = cProj(y.reshaped(to: [b, t, c]))
        return dropout?.apply(out, probability: residualDropout) ?? out
    }
}

/// LLaMA's attention: separate q/k/v projections (grouped-query: G ≤ H key/value heads), rotary
/// position embedding on q and k, causal attention, output projection o_proj. No biases.
public final class LlamaAttention: Module {
    public let qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear
    public let heads: Int, kvHeads: Int, headSize: Int
    public let ropeTheta: Float
    public var attentionDropout: Float = 0

    public init(width: Int, heads: Int, kvHeads: Int, headSize: Int, ropeTheta: Float, bias: Bool = false) {
        qProj = Linear(inputSize: width, outputSize: heads * headSize, bias: bias)
        kProj = Linear(inputSize: width, outputSize: kvHeads * headSize, bias: bias)
        vProj = Linear(inputSize: width, outputSize: kvHeads * headSize, bias: bias)
        oProj = Linear(inputSize: heads * headSize, outputSize: width, bias: bias)
        self.heads = heads; self.kvHeads = kvHeads; self.headSize = headSize; self.ropeTheta = ropeTheta
    }

    public var children: [(name: String, module: any Module)] {
        [("q_proj", qProj), ("k_proj", kProj), ("v_proj", vProj), ("o_proj", oProj)]
    }

    public func callAsFunction(_ x: Tensor, startPosition: Int = 0, dropout: DropoutSource? = nil) -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let q = qProj(x).reshaped(to: [b, t, heads, headSize]).rotaryEmbedding(base: ropeTheta, startPosition: startPosition)
        let k = kProj(x).reshaped(to: [b, t, kvHeads, headSize]).rotaryEmbedding(base: ropeTheta, startPosition: startPosition)
        let v = vProj(x).reshaped(to: [b, t, kvHeads, headSize])
        let y = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: true,
                                                 dropout: dropout?.attention(probability: attentionDropout))   // (B, T, H, D)
        return oProj(y.reshaped(to: [b, t, heads * headSize]))
    }
}
