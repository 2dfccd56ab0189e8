import Foundation
import LianNN
import LianTensor

/// What a training or fine-tuning step will cost before it runs: parameters, FLOPs, memory by
/// kind, and time from a measured matrix-multiply speed (`lian plan`).
///
/// Memory follows what Lian's autograd keeps (see each term). Activations are counted per token
/// per layer from the tensors the backward pass holds; attention probabilities are the T² term.
public struct TrainingPlan: Codable, Sendable {
    public enum Method: String, Codable, Sendable { case full, lora, qlora }

    public var modelType: String
    public var method: Method
    public var batch: Int, context: Int
    public var parameters: Int
    public var trainableParameters: Int
    public var flopsPerToken: Double
    public var flopsPerStep: Double
    /// Bytes.
    public var weights: Double, gradients: Double, optimizerState: Double
    public var activations: Double
    /// The part of `activations` that grows with T²: attention probabilities.
    public var attentionProbabilities: Double
    /// Transient buffers of the backward pass: the logits' gradient and a layer's working set.
    public var backwardWorkspace: Double
    /// The program itself (code, runtime, buffers outside the model).
    public var runtime: Double
    /// Whether the peak comes at the start of the backward pass (activations held) rather than
    /// at its end (gradients held); `total` counts only the larger of the two.
    public var peakAtBackwardStart: Bool
    public var total: Double
    /// Bytes the memory-bound kernels move per step (norms, activations, softmax, the loss, AdamW).
    public var memoryTraffic: Double
    /// Seconds per optimizer step: FLOPs at `gflops` plus `memoryTraffic` at `bandwidth` GB/s.
    public var secondsPerStep: Double?
    public var gflops: Double?
    public var bandwidth: Double?
    /// Seconds per step extrapolated from timed steps of the same model with one and four layers
    /// (set by the caller that times them).
    public var measuredSecondsPerStep: Double?
    /// Set by `lian plan --check`: the planned model's own peak resident memory and best step time.
    public var checkedPeakBytes: Double?
    public var checkedSecondsPerStep: Double?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", method, batch, context, parameters, trainableParameters = "trainable_parameters"
        case flopsPerToken = "flops_per_token", flopsPerStep = "flops_per_step", weights, gradients
        case optimizerState = "optimizer_state", activations, attentionProbabilities = "attention_probabilities"
        case backwardWorkspace = "backward_workspace", runtime, total, peakAtBackwardStart = "peak_at_backward_start", secondsPerStep = "seconds_per_step", gflops
        case memoryTraffic = "memory_traffic", bandwidth, measuredSecondsPerStep = "extrapolated_seconds_per_step"
        case checkedPeakBytes = "checked_peak_bytes", checkedSecondsPerStep = "checked_seconds_per_step"
    }

    /// The plan for `config` trained with `method` (LoRA settings from `lora`) on batches of
    /// `batch` × `context` tokens, AdamW.
    public init(config: ModelConfiguration, method: Method, lora: LoRAConfig? = nil, batch: Int, context: Int,
                gflops: Double? = nil, bandwidth: Double? = nil) {
        modelType = config.modelType
        self.method = method; self.batch = batch; self.context = context
        parameters = config.parameterCount
        let layers = Double(config.layers), c = Double(config.width), tokens = Double(batch * context), t = Double(context)
        let vocabulary = Double(config.vocabularySize)
        let linear = Self.linearShapes(config)                   // per layer: (name, in, out)
        let adapted: Set<String>
        if method == .full {
            adapted = []
        } else {
            let targets = LoRAConfig.expand(lora?.targetModules ?? ["attention"], for: config.modelType)
            adapted = Set(linear.map(\.name).filter { name in targets.contains("all-linear") || targets.contains { name == $0 || name.hasSuffix("." + $0) } })
        }
        let rank = Double(lora?.rank ?? 8)
        let adapterParameters = linear.filter { adapted.contains($0.name) }.reduce(0.0) { $0 + rank * Double($1.in + $1.out) } * layers
        trainableParameters = method == .full ? parameters : Int(adapterParameters)

        // FLOPs: forward 2·(matmul weights) + attention; backward 2× forward for full, and without
        // the weight-gradient half of the frozen products for LoRA (dx only).
        let forward = config.forwardFLOPsPerToken(context: context)
        if method == .full {
            flopsPerToken = 3 * forward
        } else {
            let frozenMatmul = 2 * Double(config.matmulWeights)
            flopsPerToken = 3 * forward - frozenMatmul + 6 * adapterParameters
        }
        flopsPerStep = flopsPerToken * tokens

        // Weights: Float32, or NF4 (4 bits + 8-bit absmax per 64 + one scale per 256 blocks:
        // 4.127 bits) for QLoRA's linear layers (not the embeddings or the head).
        let linearWeights = linear.reduce(0.0) { $0 + Double($1.in * $1.out) } * layers
        let others = Double(parameters) - linearWeights
        weights = method == .qlora ? linearWeights * 4.127 / 8 + others * 4 + adapterParameters * 4 : Double(parameters) * 4 + adapterParameters * 4
        gradients = Double(trainableParameters) * 4
        optimizerState = Double(trainableParameters) * 8                   // AdamW: m and v

        // Activations kept for the backward pass, per token and layer (floats):
        //   norm inputs (2C), attention q|k|v (3C or (H+2G)·D), MLP hidden before the
        //   activation (4C; 2×mlp for SwiGLU: gate and up), plus the inputs of the linear
        //   layers whose weights train (frozen ones keep none): norm outputs (2C), attention
        //   output (C), MLP activation output (mlp).
        let (qkv, mlp, mlpSaved): (Double, Double, Double)
        switch config {
        case .gpt2(let g): qkv = 3 * c; mlp = Double(g.mlpSize); mlpSaved = Double(g.mlpSize)
        case .llama(let l): qkv = Double((l.heads + 2 * l.kvHeads) * l.headSize); mlp = Double(l.mlpSize); mlpSaved = 3 * Double(l.mlpSize)
        }
        func keepsInput(_ names: [String]) -> Bool { method == .full || names.contains { adapted.contains($0) } }
        var perToken = 2 * c + qkv + mlpSaved
        let (attnIn, attnOut, mlpIn, mlpOut) = config.modelType == "gpt2"
            ? (["c_attn"], ["attn.c_proj"], ["c_fc"], ["mlp.c_proj"])
            : (["q_proj", "k_proj", "v_proj"], ["o_proj"], ["gate_proj", "up_proj"], ["down_proj"])
        if keepsInput(attnIn) { perToken += c }
        if keepsInput(attnOut) { perToken += c }
        if keepsInput(mlpIn) { perToken += c }
        if keepsInput(mlpOut) { perToken += mlp }
        let heads: Double
        switch config { case .gpt2(let g): heads = Double(g.heads); case .llama(let l): heads = Double(l.heads) }
        attentionProbabilities = layers * tokens * heads * t * 4            // B·H·T×T, stored whole
        // The head and the loss run fused (Tensor.linearCrossEntropy): the [B·T, V] logits are kept
        // for the backward pass when they fit Tensor.keptLogitsLimit, and otherwise exist a chunk
        // of ≤ 4 M at a time, recomputed in the backward pass.
        let singleChunk = tokens * vocabulary <= Double(Tensor.keptLogitsLimit)
        let logits = (singleChunk ? tokens * vocabulary : min(tokens * vocabulary, Double(1 << 22))) * 4
        activations = layers * tokens * perToken * 4 + attentionProbabilities + (singleChunk ? logits : 0) + tokens * 2 * c * 4
        // Backward: the recomputed chunk of logits (turned into its gradient in place) when there
        // are several, and the residual stream's gradient with a layer's input and output
        // gradients in flight. Each layer frees its activations as its gradients appear, so the
        // peak is at one end of the backward pass: its start (every activation, plus the head's
        // gradient when it trains), or its end (every gradient).
        backwardWorkspace = (singleChunk ? 0 : logits) + 4 * tokens * c * 4
        let headGradient = method == .full ? vocabulary * c * 4 : 0
        peakAtBackwardStart = activations + headGradient >= gradients
        runtime = 25 * 1_048_576                                           // measured: an idle lian process
        total = weights + optimizerState + runtime + backwardWorkspace + max(activations + headGradient, gradients)
        // Memory-bound work, in bytes moved: each kept activation is written in the forward pass
        // and read back in the backward pass, which writes and reads its gradient (4 passes); the
        // attention probabilities likewise, plus the softmax's own read and write; the logits
        // are written, read for the log-sum-exp and turned into their gradient (3 passes); AdamW
        // reads and writes each trainable parameter, its gradient and two moments (7 passes).
        let kept = activations - attentionProbabilities - logits
        memoryTraffic = 4 * kept + 6 * attentionProbabilities + 3 * tokens * vocabulary * 4 + 7 * 4 * Double(trainableParameters)
        if let gflops, gflops > 0 {
            self.gflops = gflops
            self.bandwidth = bandwidth
            secondsPerStep = flopsPerStep / (gflops * 1e9) + (bandwidth.map { memoryTraffic / ($0 * 1e9) } ?? 0)
        }
    }

    /// The linear layers of one decoder layer: name (as LoRA targets name it), in, out.
    static func linearShapes(_ config: ModelConfiguration) -> [(name: String, in: Int, out: Int)] {
        switch config {
        case .gpt2(let g):
            return [("attn.c_attn", g.width, 3 * g.width), ("attn.c_proj", g.width, g.width),
                    ("mlp.c_fc", g.width, g.mlpSize), ("mlp.c_proj", g.mlpSize, g.width)]
        case .llama(let l):
            let q = l.heads * l.headSize, kv = l.kvHeads * l.headSize
            return [("self_attn.q_proj", l.width, q), ("self_attn.k_proj", l.width, kv), ("self_attn.v_proj", l.width, kv),
                    ("self_attn.o_proj", q, l.width), ("mlp.gate_proj", l.width, l.mlpSize), ("mlp.up_proj", l.width, l.mlpSize),
                    ("mlp.down_proj", l.mlpSize, l.width)]
        }
    }
}
