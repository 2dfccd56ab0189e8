import LianKernels

extension Tensor {
    /// The most logits (floats) `linearCrossEntropy` keeps from the forward to the backward pass
    /// by default instead of recomputing them: 64 MiB.
    public static let keptLogitsLimit = 1 << 24

    /// Mean cross-entropy of the logits `hidden · Wᵀ` against `targets` (−100 ignored), in chunks
    /// of rows of at most ~4 M logits (at least 256 rows when kept). While gradients are recorded,
    /// the logits are kept for the backward pass (which turns them into their gradient in place)
    /// when all of them fit in `keepingLogitsUpTo` floats; beyond it only one chunk is ever held,
    /// and the backward pass recomputes each chunk's logits (one more head product). For a
    /// 50,257-token vocabulary and long batches the logits are the largest activation of a small
    /// model's training step, twice (logits and their gradient); for a batch that fits the limit,
    /// the recomputation would cost a third more head products (~10% of GPT-2 124M's step at 256
    /// tokens) to save a few tens of megabytes.
    ///
    /// hidden [..., C], weight [V, C] (the output head, or the tied embedding).
    ///   forward:  per chunk, logits = h·Wᵀ, loss += Σ (logsumexp − logit[target])
    ///   backward: per chunk, d = (softmax(logits) − onehot) · g / count,  dh = d·W,  dW += dᵀ·h
    public static func linearCrossEntropy(hidden: Tensor, weight: Tensor, targets: IndexTensor, ignoreIndex: Int32 = -100,
                                          keepingLogitsUpTo keptLimit: Int = keptLogitsLimit) -> Tensor {
        let c = weight.shape[1], vocab = weight.shape[0]
        precondition(hidden.shape.last == c, "[linearCrossEntropy] hidden width \(hidden.shape.last ?? 0) differs from the head's \(c)")
        let rows = hidden.count / Swift.max(1, c)
        precondition(targets.count == rows, "[linearCrossEntropy] \(targets.count) targets for \(rows) rows")
        let chunkLimit = Swift.max(1, Swift.min(rows, (1 << 22) / Swift.max(1, vocab)))
        let keepsAll = chunkLimit >= rows || (GradMode.isEnabled && rows * vocab <= keptLimit)
        // Kept logits sit at their own rows of one buffer and still go through in chunks (each
        // chunk's loss reads its logits while the product's output is in cache), but of at least
        // 256 rows, so that the products are not short (GPT-2 124M's 256 rows: one chunk, not
        // four of 83).
        let chunk = keepsAll ? Swift.max(chunkLimit, Swift.min(rows, 256)) : chunkLimit
        let lse = TensorStorage(count: rows)
        let buffer = TensorStorage(count: keepsAll ? rows * vocab : chunk * vocab)
        /// A chunk's logits: at its rows when all are kept, else in the one chunk-sized buffer.
        @inline(__always) func logits(_ storage: TensorStorage, _ start: Int) -> UnsafeMutablePointer<Float> {
            keepsAll ? storage.pointer + start * vocab : storage.pointer
        }
        var total = 0.0, count = 0
        targets.values.withUnsafeBufferPointer { tp in
            for start in stride(from: 0, to: rows, by: chunk) {
                let n = Swift.min(chunk, rows - start)
                Kernels.backend.sgemm(transA: false, transB: true, m: n, n: vocab, k: c, a: hidden.pointer + start * c, lda: c,
                                      b: weight.pointer, ldb: c, c: logits(buffer, start), ldc: vocab)
                let r = Kernels.backend.crossEntropyForward(logits: logits(buffer, start), targets: tp.baseAddress! + start,
                                                            logSumExp: lse.pointer + start, rows: n, vocab: vocab, ignoreIndex: ignoreIndex)
                total += Double(r.loss) * Double(r.count)
                count += r.count
            }
        }
        var out = Tensor(count > 0 ? Float(total / Double(count)) : 0)
        let (h, w) = (hidden.detached(), weight.detached())
        let hiddenShape = hidden.shape
        let kept: TensorStorage? = keepsAll ? buffer : nil
        record(&out, from: [hidden, weight]) { g, needs in
            var dh = needs[0] ? Tensor(uninitializedShape: hiddenShape) : nil
            // The first chunk's product writes dW (beta 0); with no rows there is none.
            var dw = needs[1] ? (rows > 0 ? Tensor(uninitializedShape: [vocab, c]) : Tensor.zeros([vocab, c])) : nil
            let d = kept ?? TensorStorage(count: chunk * vocab)
            targets.values.withUnsafeBufferPointer { tp in
                for start in stride(from: 0, to: rows, by: chunk) {
                    let n = Swift.min(chunk, rows - start)
                    let dChunk = logits(d, start)
                    if kept == nil {
                        Kernels.backend.sgemm(transA: false, transB: true, m: n, n: vocab, k: c, a: h.pointer + start * c, lda: c,
                                              b: w.pointer, ldb: c, c: dChunk, ldc: vocab)
                    }
                    // dlogits in place, scaled for the mean over all `count` rows.
                    Kernels.backend.crossEntropyBackward(logits: dChunk, targets: tp.baseAddress! + start, logSumExp: lse.pointer + start,
                                                         dLoss: g.item, count: count, dLogits: dChunk, rows: n, vocab: vocab,
                                                         ignoreIndex: ignoreIndex)
                    if dh != nil {
                        Kernels.backend.sgemm(transA: false, transB: false, m: n, n: c, k: vocab, a: dChunk, lda: vocab,
                                              b: w.pointer, ldb: c, c: dh!.mutablePointer + start * c, ldc: c)
                    }
                    if dw != nil {
                        Kernels.backend.sgemm(transA: true, transB: false, m: vocab, n: c, k: n, a: dChunk, lda: vocab,
                                              b: h.pointer + start * c, ldb: c, beta: start == 0 ? 0 : 1, c: dw!.mutablePointer, ldc: c)
                    }
                }
            }
            return [dh, dw]
        }
        return out
    }
}
