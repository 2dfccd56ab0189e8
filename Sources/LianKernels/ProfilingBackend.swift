// A kernel backend that times every call it forwards: where a training step's time goes, kernel
// by kernel (products by shape and transposition), without a sampling profiler.
//
//   let profiler = ProfilingBackend(wrapping: Kernels.backend)
//   Kernels.backend = profiler
//   ... run steps ...
//   for entry in profiler.entries() { ... }
//
// Times are wall-clock on the calling thread around each call, which includes the call's own
// threading. Work a kernel does through GEMM directly (attention's per-head products) counts as
// that kernel's. What no kernel call covers (the optimizer, autograd bookkeeping) is the step's
// time minus the sum.

import Foundation
import Synchronization

public final class ProfilingBackend: KernelBackend {
    public let wrapped: any KernelBackend
    public var name: String { "profiling(\(wrapped.name))" }

    /// One kernel (or one product shape): how often it ran, its total seconds and, for products,
    /// its floating-point operations.
    public struct Entry: Sendable {
        public var kernel: String
        public var calls = 0
        public var seconds = 0.0
        public var flops = 0.0
        /// Of `seconds`, how long the calling thread waited at the ends of the call's parallel
        /// regions for the other threads (uneven shares, or a thread the machine stopped).
        public var waitedSeconds = 0.0
    }

    private let table = Mutex<[String: Entry]>([:])

    public init(wrapping backend: any KernelBackend) { wrapped = backend }

    /// The entries so far, the most time first.
    public func entries() -> [Entry] {
        table.withLock { Array($0.values) }.sorted { $0.seconds > $1.seconds }
    }

    /// Forgets what was measured (after warm-up steps, say).
    public func reset() { table.withLock { $0 = [:] } }

    @inline(__always)
    private func timed<R>(_ kernel: @autoclosure () -> String, flops: Double = 0, _ body: () -> R) -> R {
        let start = DispatchTime.now().uptimeNanoseconds, waitedBefore = Parallelism.waitedSeconds
        let result = body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let waited = Parallelism.waitedSeconds - waitedBefore
        let key = kernel()
        table.withLock { t in
            var e = t[key] ?? Entry(kernel: key)
            e.calls += 1; e.seconds += seconds; e.flops += flops; e.waitedSeconds += waited
            t[key] = e
        }
        return result
    }

    public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                      columnSums: UnsafeMutablePointer<Float>?, epilogue: GEMMEpilogue) {
        let cases = (transA ? "Aᵀ·" : "A·") + (transB ? "Bᵀ" : "B") + epilogue.profileSuffix
        timed("sgemm \(m)×\(k)×\(n) \(cases)", flops: 2 * Double(m) * Double(n) * Double(k)) {
            wrapped.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                          beta: beta, c: c, ldc: ldc, bias: bias, columnSums: columnSums, epilogue: epilogue)
        }
    }
    public func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        timed("gelu forward") { wrapped.geluForward(x, y, n) }
    }
    public func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        timed("gelu backward") { wrapped.geluBackward(x, dy, dx, n) }
    }
    public func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>, _ n: Int) {
        timed("gelu forward") { wrapped.geluForward(x, y, derivative: derivative, n) }
    }
    public func geluBackward(savedDerivative d: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        timed("gelu backward") { wrapped.geluBackward(savedDerivative: d, dy, dx, n) }
    }
    public func siluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        timed("silu forward") { wrapped.siluForward(x, y, n) }
    }
    public func siluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        timed("silu backward") { wrapped.siluBackward(x, dy, dx, n) }
    }
    public func softmaxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        timed("softmax forward") { wrapped.softmaxForward(x, y, rows: rows, cols: cols) }
    }
    public func softmaxBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        timed("softmax backward") { wrapped.softmaxBackward(y, dy, dx, rows: rows, cols: cols) }
    }
    public func layerNormForward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                                 rows: Int, cols: Int, eps: Float) {
        timed("layernorm forward") {
            wrapped.layerNormForward(x, gamma: gamma, beta: beta, y, mean: mean, rstd: rstd, rows: rows, cols: cols, eps: eps)
        }
    }
    public func layerNormBackward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                  rstd: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                  dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>?, rows: Int, cols: Int) {
        timed("layernorm backward") {
            wrapped.layerNormBackward(x, gamma: gamma, mean: mean, rstd: rstd, dy, dx, dgamma: dgamma, dbeta: dbeta, rows: rows, cols: cols)
        }
    }
    public func rmsNormForward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float) {
        timed("rmsnorm forward") { wrapped.rmsNormForward(x, gamma: gamma, y, rstd: rstd, rows: rows, cols: cols, eps: eps) }
    }
    public func rmsNormBackward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
                                rows: Int, cols: Int) {
        timed("rmsnorm backward") {
            wrapped.rmsNormBackward(x, gamma: gamma, rstd: rstd, dy, dx, dgamma: dgamma, rows: rows, cols: cols)
        }
    }
    public func embeddingForward(table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
                                 count: Int, vocab: Int, width: Int) {
        timed("embedding forward") { wrapped.embeddingForward(table: table, ids: ids, out: out, count: count, vocab: vocab, width: width) }
    }
    public func embeddingBackward(ids: UnsafePointer<Int32>, dOut: UnsafePointer<Float>, dTable: UnsafeMutablePointer<Float>,
                                  count: Int, width: Int) {
        timed("embedding backward") { wrapped.embeddingBackward(ids: ids, dOut: dOut, dTable: dTable, count: count, width: width) }
    }
    public func attentionForward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                 out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                                 shape: AttentionShape, scale: Float, causal: Bool,
                                 dropout: AttentionDropout?, dropped: UnsafeMutablePointer<Float>?) {
        timed("attention forward") {
            wrapped.attentionForward(q: q, k: k, v: v, out: out, probs: probs, shape: shape, scale: scale, causal: causal,
                                     dropout: dropout, dropped: dropped)
        }
    }
    public func attentionBackward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                  dOut: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                                  dv: UnsafeMutablePointer<Float>, shape: AttentionShape, scale: Float, causal: Bool,
                                  dropout: AttentionDropout?, dropped: UnsafePointer<Float>?) {
        timed("attention backward") {
            wrapped.attentionBackward(q: q, k: k, v: v, probs: probs, dOut: dOut, dq: dq, dk: dk, dv: dv, shape: shape,
                                      scale: scale, causal: causal, dropout: dropout, dropped: dropped)
        }
    }
    public func rotaryEmbedding(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>,
                                sin: UnsafePointer<Float>, batch: Int, time: Int, heads: Int, headSize: Int, inverse: Bool) {
        timed("rotary embedding") {
            wrapped.rotaryEmbedding(x, y, cos: cos, sin: sin, batch: batch, time: time, heads: heads, headSize: headSize, inverse: inverse)
        }
    }
    public func crossEntropyForward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafeMutablePointer<Float>,
                                    rows: Int, vocab: Int, ignoreIndex: Int32) -> (loss: Float, count: Int) {
        timed("cross-entropy forward") {
            wrapped.crossEntropyForward(logits: logits, targets: targets, logSumExp: logSumExp, rows: rows, vocab: vocab,
                                        ignoreIndex: ignoreIndex)
        }
    }
    public func crossEntropyBackward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafePointer<Float>,
                                     dLoss: Float, count: Int, dLogits: UnsafeMutablePointer<Float>, rows: Int, vocab: Int,
                                     ignoreIndex: Int32) {
        timed("cross-entropy backward") {
            wrapped.crossEntropyBackward(logits: logits, targets: targets, logSumExp: logSumExp, dLoss: dLoss, count: count,
                                         dLogits: dLogits, rows: rows, vocab: vocab, ignoreIndex: ignoreIndex)
        }
    }
}
