// The kernel seam: every tensor op reaches its kernels through `Kernels.backend`, so another
// backend (Accelerate on macOS, a GPU) can replace any of them without touching the ops. Each
// requirement has a default implementation — the CPU kernels in this module — so a backend
// overrides only what it does better.

public protocol KernelBackend: Sendable {
    var name: String { get }

    /// C = alpha · op(A) · op(B) + beta · C, plus `bias` (n values) on every row when given;
    /// `columnSums`, when given, receives the n sums over k of op(B)'s columns; then `epilogue`
    /// on every element of C (GEMMEpilogue: the same values as the separate elementwise kernel).
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
               columnSums: UnsafeMutablePointer<Float>?, epilogue: GEMMEpilogue)

    func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int)
    func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int)
    /// y = GELU(x) and its derivative at x, for a backward that only multiplies.
    func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>, _ n: Int)
    /// dx = dy · d, d as `geluForward(_:_:derivative:_:)` saved it.
    func geluBackward(savedDerivative d: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int)
    func siluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int)
    func siluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int)

    func softmaxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int)
    func softmaxBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int)

    func layerNormForward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
                          _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                          rows: Int, cols: Int, eps: Float)
    func layerNormBackward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                           rstd: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                           dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>?, rows: Int, cols: Int)
    func rmsNormForward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                        rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float)
    func rmsNormBackward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                         _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
                         rows: Int, cols: Int)

    func embeddingForward(table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
                          count: Int, vocab: Int, width: Int)
    func embeddingBackward(ids: UnsafePointer<Int32>, dOut: UnsafePointer<Float>, dTable: UnsafeMutablePointer<Float>,
                           count: Int, width: Int)

    func attentionForward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                          out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                          shape: AttentionShape, scale: Float, causal: Bool,
                          dropout: AttentionDropout?, dropped: UnsafeMutablePointer<Float>?)
    func attentionBackward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                           dOut: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                           dv: UnsafeMutablePointer<Float>, shape: AttentionShape, scale: Float, causal: Bool,
                           dropout: AttentionDropout?, dropped: UnsafePointer<Float>?)

    func rotaryEmbedding(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>,
                         sin: UnsafePointer<Float>, batch: Int, time: Int, heads: Int, headSize: Int, inverse: Bool)

    func crossEntropyForward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafeMutablePointer<Float>,
                             rows: Int, vocab: Int, ignoreIndex: Int32) -> (loss: Float, count: Int)
    func crossEntropyBackward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafePointer<Float>,
                              dLoss: Float, count: Int, dLogits: UnsafeMutablePointer<Float>, rows: Int, vocab: Int,
                              ignoreIndex: Int32)
}

extension KernelBackend {
    public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                      columnSums: UnsafeMutablePointer<Float>?, epilogue: GEMMEpilogue) {
        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc, bias: bias, columnSums: columnSums, epilogue: epilogue)
    }
    public func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Activations.geluForward(x, y, n)
    }
    public func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        Activations.geluBackward(x, dy, dx, n)
    }
    public func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>, _ n: Int) {
        Activations.geluForward(x, y, derivative: derivative, n)
    }
    public func geluBackward(savedDerivative d: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        Activations.geluBackward(savedDerivative: d, dy, dx, n)
    }
    public func siluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Activations.siluForward(x, y, n)
    }
    public func siluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        Activations.siluBackward(x, dy, dx, n)
    }
    public func softmaxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Softmax.forward(x, y, rows: rows, cols: cols)
    }
    public func softmaxBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Softmax.backward(y, dy, dx, rows: rows, cols: cols)
    }
    public func layerNormForward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                                 rows: Int, cols: Int, eps: Float) {
        Normalization.layerNormForward(x, gamma: gamma, beta: beta, y, mean: mean, rstd: rstd, rows: rows, cols: cols, eps: eps)
    }
    public func layerNormBackward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                  rstd: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                  dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>?, rows: Int, cols: Int) {
        Normalization.layerNormBackward(x, gamma: gamma, mean: mean, rstd: rstd, dy, dx, dgamma: dgamma, dbeta: dbeta,
                                        rows: rows, cols: cols)
    }
    public func rmsNormForward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float) {
        Normalization.rmsNormForward(x, gamma: gamma, y, rstd: rstd, rows: rows, cols: cols, eps: eps)
    }
    public func rmsNormBackward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
                                rows: Int, cols: Int) {
        Normalization.rmsNormBackward(x, gamma: gamma, rstd: rstd, dy, dx, dgamma: dgamma, rows: rows, cols: cols)
    }
    public func embeddingForward(table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
                                 count: Int, vocab: Int, width: Int) {
        Embedding.forward(table: table, ids: ids, out: out, count: count, vocab: vocab, width: width)
    }
    public func embeddingBackward(ids: UnsafePointer<Int32>, dOut: UnsafePointer<Float>, dTable: UnsafeMutablePointer<Float>,
                                  count: Int, width: Int) {
        Embedding.backward(ids: ids, dOut: dOut, dTable: dTable, count: count, width: width)
    }
    public func attentionForward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                 out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                                 shape: AttentionShape, scale: Float, causal: Bool,
                                 dropout: AttentionDropout?, dropped: UnsafeMutablePointer<Float>?) {
        Attention.forward(q: q, k: k, v: v, out: out, probs: probs, shape: shape, scale: scale, causal: causal,
                          dropout: dropout, dropped: dropped)
    }
    public func attentionBackward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                  dOut: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                                  dv: UnsafeMutablePointer<Float>, shape: AttentionShape, scale: Float, causal: Bool,
                                  dropout: AttentionDropout?, dropped: UnsafePointer<Float>?) {
        Attention.backward(q: q, k: k, v: v, probs: probs, dOut: dOut, dq: dq, dk: dk, dv: dv, shape: shape, scale: scale,
                           causal: causal, dropout: dropout, dropped: dropped)
    }
    public func rotaryEmbedding(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>,
                                sin: UnsafePointer<Float>, batch: Int, time: Int, heads: Int, headSize: Int, inverse: Bool) {
        RotaryEmbedding.apply(x, y, cos: cos, sin: sin, batch: batch, time: time, heads: heads, headSize: headSize, inverse: inverse)
    }
    public func crossEntropyForward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafeMutablePointer<Float>,
                                    rows: Int, vocab: Int, ignoreIndex: Int32) -> (loss: Float, count: Int) {
        CrossEntropy.forward(logits: logits, targets: targets, logSumExp: logSumExp, rows: rows, vocab: vocab, ignoreIndex: ignoreIndex)
    }
    public func crossEntropyBackward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafePointer<Float>,
                                     dLoss: Float, count: Int, dLogits: UnsafeMutablePointer<Float>, rows: Int, vocab: Int,
                                     ignoreIndex: Int32) {
        CrossEntropy.backward(logits: logits, targets: targets, logSumExp: logSumExp, dLoss: dLoss, count: count,
                              dLogits: dLogits, rows: rows, vocab: vocab, ignoreIndex: ignoreIndex)
    }
}

extension KernelBackend {
    /// `sgemm` with alpha 1, beta 0 and no epilogue unless given.
    @inlinable
    public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil,
                      columnSums: UnsafeMutablePointer<Float>? = nil, epilogue: GEMMEpilogue = .none) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc, bias: bias, columnSums: columnSums, epilogue: epilogue)
    }
}

/// Lian's own CPU kernels (SIMD Swift): the defaults of `KernelBackend`.
public struct CPUBackend: KernelBackend {
    public init() {}
    public var name: String { "cpu (Swift SIMD)" }
}

public enum Kernels {
    nonisolated(unsafe) private static var current: any KernelBackend = CPUBackend()

    /// The backend every tensor op uses. Replace it before computing, not during.
    public static var backend: any KernelBackend {
        get { current }
        set { current = newValue }
    }
}
