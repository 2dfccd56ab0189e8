import LianKernels

extension Tensor {
    /// Mean cross-entropy of the logits `hidden · Wᵀ` against `targets` (−100 ignored), without
    /// ever holding the [N, V] logits: rows go through in chunks of at most ~4 M logits, and the
    /// backward pass recomputes each chunk's logits (one more head product) instead of keeping
    /// them. For a 50,257-token vocabulary that is the largest activation of a small model's
    /// training step, twice (logits and their gradient).
    ///
    /// hidden [..., C], weight [V, C] (the output head, or the tied embedding).
    ///   forward:  per chunk, logits = h·Wᵀ, loss += Σ (logsumexp − logit[target])
    ///   backward: per chunk, d = (softmax(logits) − onehot) · g / count,  dh = d·W,  dW += dᵀ·h
    public static func linearCrossEntropy(hidden: Tensor, weight: Tensor, targets: IndexTensor, ignoreIndex: Int32 = -100) -> Tensor {
        let c = weight.shape[1], vocab = weight.shape[0]
        precondition(hidden.shape.last == c, "[linearCrossEntropy] hidden width \(hidden.shape.last ?? 0) differs from the head's \(c)")
        let rows = hidden.count / Swift.max(1, c)
        precondition(targets.count == rows, "[linearCrossEntropy] \(targets.count) targets for \(rows) rows")
        let chunk = Swift.max(1, Swift.min(rows, (1 << 22) / Swift.max(1, vocab)))
        let lse = TensorStorage(count: rows)
        let buffer = TensorStorage(count: chunk * vocab)
        var total = 0.0, count = 0
        targets.values.withUnsafeBufferPointer { tp in
            for start in stride(from: 0, to: rows, by: chunk) {
                let n = Swift.min(chunk, rows - start)
                Kernels.backend.sgemm(transA: false, transB: true, m: n, n: vocab, k: c, a: hidden.pointer + start * c, lda: c,
                                      b: weight.pointer, ldb: c, c: buffer.pointer, ldc: vocab)
                let r = Kernels.backend.crossEntropyForward(logits: buffer.pointer, targets: tp.baseAddress! + start,
                                                            logSumExp: lse.pointer + start, rows: n, vocab: vocab, ignoreIndex: ignoreIndex)
                total += Double(r.loss) * Double(r.count)
                count += r.count
            }
        }
        var out = Tensor(count > 0 ? Float(total / Double(count)) : 0)
        let (h, w) = (hidden.detached(), weight.detached())
        let hiddenShape = hidden.shape
        // When one chunk held every row, its logits are kept (no larger than a chunk) and the
        // backward pass need not recompute them.
        let kept: TensorStorage? = chunk >= rows ? buffer : nil
        record(&out, from: [hidden, weight]) { g, needs in
            var dh = needs[0] ? Tensor(uninitializedShape: hiddenShape) : nil
            var dw = needs[1] ? Tensor.zeros([vocab, c]) : nil
            let d = kept ?? TensorStorage(count: chunk * vocab)
            targets.values.withUnsafeBufferPointer { tp in
                for start in stride(from: 0, to: rows, by: chunk) {
                    let n = Swift.min(chunk, rows - start)
                    if kept == nil {
                        Kernels.backend.sgemm(transA: false, transB: true, m: n, n: vocab, k: c, a: h.pointer + start * c, lda: c,
                                              b: w.pointer, ldb: c, c: d.pointer, ldc: vocab)
                    }
                    // dlogits in place, scaled for the mean over all `count` rows.
                    Kernels.backend.crossEntropyBackward(logits: d.pointer, targets: tp.baseAddress! + start, logSumExp: lse.pointer + start,
                                                         dLoss: g.item, count: count, dLogits: d.pointer, rows: n, vocab: vocab,
                                                         ignoreIndex: ignoreIndex)
                    if dh != nil {
                        Kernels.backend.sgemm(transA: false, transB: false, m: n, n: c, k: vocab, a: d.pointer, lda: vocab,
                                              b: w.pointer, ldb: c, c: dh!.mutablePointer + start * c, ldc: c)
                    }
                    if dw != nil {
                        Kernels.backend.sgemm(transA: true, transB: false, m: vocab, n: c, k: n, a: d.pointer, lda: vocab,
                                              b: h.pointer + start * c, ldb: c, beta: 1, c: dw!.mutablePointer, ldc: c)
                    }
                }
            }
            return [dh, dw]
        }
        return out
    }
}
