import LianKernels

// The fused ops a Transformer is made of: embedding lookup, causal attention, rotary position
// embedding and the cross-entropy loss.

extension Tensor {
    /// Rows of `table` [V, C] picked by `ids` [...] → [..., C].
    public static func embedding(_ table: Tensor, ids: IndexTensor) -> Tensor {
        precondition(table.rank == 2, "[embedding] table must be [vocab, width], got \(table.shape)")
        let vocab = table.shape[0], width = table.shape[1]
        var out = Tensor(uninitializedShape: ids.shape + [width])
        ids.values.withUnsafeBufferPointer { idp in
            Kernels.backend.embeddingForward(table: table.pointer, ids: idp.baseAddress!, out: out.mutablePointer,
                                             count: ids.count, vocab: vocab, width: width)
        }
        // The gradient is scatter-added into the table's running gradient: a tied table already
        // holds the head's [V, C] gradient, and a dense copy would double it at the end of backward.
        record(&out, from: table) { g, dTable in
            ids.values.withUnsafeBufferPointer { idp in
                Kernels.backend.embeddingBackward(ids: idp.baseAddress!, dOut: g.pointer, dTable: dTable.mutablePointer,
                                                  count: ids.count, width: width)
            }
        }
        return out
    }

    /// Scaled dot-product attention. q [B, T, H, D]; k, v [B, T, G, D] with H a multiple of G
    /// (grouped-query attention; G = H is multi-head). Returns [B, T, H, D].
    /// `scale` defaults to 1/√D; `causal` lets position i see positions 0...i only; `dropout`
    /// (training) drops attention probabilities.
    public static func scaledDotProductAttention(query q: Tensor, key k: Tensor, value v: Tensor,
                                                 causal: Bool = true, scale: Float? = nil,
                                                 dropout: AttentionDropout? = nil) -> Tensor {
        precondition(q.rank == 4 && k.rank == 4 && v.rank == 4, "[attention] q, k, v must be [B, T, heads, D]")
        precondition(k.shape == v.shape, "[attention] key shape \(k.shape) differs from value shape \(v.shape)")
        precondition(q.shape[0] == k.shape[0] && q.shape[1] == k.shape[1] && q.shape[3] == k.shape[3],
                     "[attention] query \(q.shape) and key \(k.shape) differ in batch, time or head size")
        let shape = AttentionShape(batch: q.shape[0], time: q.shape[1], heads: q.shape[2], kvHeads: k.shape[2], headSize: q.shape[3])
        let s = scale ?? 1 / Float(q.shape[3]).squareRoot()
        var out = Tensor(uninitializedShape: q.shape)
        let probs = TensorStorage(count: shape.batch * shape.heads * shape.time * shape.time)
        let dropped = dropout.map { _ in TensorStorage(count: probs.count) }
        Kernels.backend.attentionForward(q: q.pointer, k: k.pointer, v: v.pointer, out: out.mutablePointer,
                                         probs: probs.pointer, shape: shape, scale: s, causal: causal,
                                         dropout: dropout, dropped: dropped?.pointer)
        let (sq, sk, sv) = (q.detached(), k.detached(), v.detached())
        record(&out, from: [q, k, v]) { g, _ in
            var dq = Tensor(uninitializedShape: sq.shape)
            var dk = Tensor(uninitializedShape: sk.shape), dv = Tensor(uninitializedShape: sv.shape)
            Kernels.backend.attentionBackward(q: sq.pointer, k: sk.pointer, v: sv.pointer, probs: probs.pointer,
                                              dOut: g.pointer, dq: dq.mutablePointer, dk: dk.mutablePointer,
                                              dv: dv.mutablePointer, shape: shape, scale: s, causal: causal,
                                              dropout: dropout, dropped: dropped.map { UnsafePointer($0.pointer) })
            return [dq, dk, dv]
        }
        return out
    }

    /// Attention reading q, k and v in place from one fused projection qkv [B, T, (H + 2G)·D]
    /// (q in the first H·D columns, then k, then v: GPT-2's c_attn output). Returns [B, T, H, D];
    /// the gradient comes back in the same fused layout, with no slicing on either pass.
    public static func scaledDotProductAttention(packedQKV qkv: Tensor, heads: Int, kvHeads: Int,
                                                 causal: Bool = true, scale: Float? = nil,
                                                 dropout: AttentionDropout? = nil) -> Tensor {
        precondition(qkv.rank == 3, "[attention] packed qkv must be [B, T, (H + 2G)·D], got \(qkv.shape)")
        let width = qkv.shape[2]
        precondition(heads > 0 && kvHeads > 0 && width % (heads + 2 * kvHeads) == 0,
                     "[attention] width \(width) is not (\(heads) + 2·\(kvHeads)) heads of equal size")
        let d = width / (heads + 2 * kvHeads)
        let shape = AttentionShape(batch: qkv.shape[0], time: qkv.shape[1], heads: heads, kvHeads: kvHeads, headSize: d,
                                   qRowStride: width, kvRowStride: width)
        let s = scale ?? 1 / Float(d).squareRoot()
        let (kOffset, vOffset) = (heads * d, (heads + kvHeads) * d)
        var out = Tensor(uninitializedShape: [shape.batch, shape.time, heads, d])
        let probs = TensorStorage(count: shape.batch * heads * shape.time * shape.time)
        let dropped = dropout.map { _ in TensorStorage(count: probs.count) }
        let base = qkv.pointer
        Kernels.backend.attentionForward(q: base, k: base + kOffset, v: base + vOffset, out: out.mutablePointer,
                                         probs: probs.pointer, shape: shape, scale: s, causal: causal,
                                         dropout: dropout, dropped: dropped?.pointer)
        let saved = qkv.detached()
        record(&out, from: [qkv]) { g, _ in
            var dqkv = Tensor(uninitializedShape: saved.shape)
            let dp = dqkv.mutablePointer, p = saved.pointer
            Kernels.backend.attentionBackward(q: p, k: p + kOffset, v: p + vOffset, probs: probs.pointer, dOut: g.pointer,
                                              dq: dp, dk: dp + kOffset, dv: dp + vOffset, shape: shape, scale: s, causal: causal,
                                              dropout: dropout, dropped: dropped.map { UnsafePointer($0.pointer) })
            return [dqkv]
        }
        return out
    }

    /// Rotary position embedding (half-split form) of x [B, T, H, D] at positions
    /// `startPosition..<startPosition+T`, with frequency base `base` (LLaMA: 10000).
    public func rotaryEmbedding(base: Float = 10_000, startPosition: Int = 0) -> Tensor {
        precondition(rank == 4, "[rope] input must be [B, T, heads, D], got \(shape)")
        let (b, t, h, d) = (shape[0], shape[1], shape[2], shape[3])
        let table = RotaryEmbedding.tables(positions: startPosition..<(startPosition + t), headSize: d, base: base)
        var out = Tensor(uninitializedShape: shape)
        table.cos.withUnsafeBufferPointer { c in
            table.sin.withUnsafeBufferPointer { s in
                Kernels.backend.rotaryEmbedding(pointer, out.mutablePointer, cos: c.baseAddress!, sin: s.baseAddress!,
                                                 batch: b, time: t, heads: h, headSize: d, inverse: false)
            }
        }
        let inShape = shape
        Tensor.record(&out, from: [self]) { g, _ in
            var dx = Tensor(uninitializedShape: inShape)
            table.cos.withUnsafeBufferPointer { c in
                table.sin.withUnsafeBufferPointer { s in
                    Kernels.backend.rotaryEmbedding(g.pointer, dx.mutablePointer, cos: c.baseAddress!, sin: s.baseAddress!,
                                                     batch: b, time: t, heads: h, headSize: d, inverse: true)
                }
            }
            return [dx]
        }
        return out
    }

    /// Mean cross-entropy of logits [..., V] against targets [...], skipping `ignoreIndex`
    /// (PyTorch's default, −100). Returns a rank-0 tensor.
    public static func crossEntropy(logits: Tensor, targets: IndexTensor, ignoreIndex: Int32 = -100) -> Tensor {
        let vocab = logits.shape.last ?? 1, rows = logits.count / Swift.max(1, vocab)
        precondition(targets.count == rows, "[crossEntropy] \(targets.count) targets for \(rows) rows of logits \(logits.shape)")
        let lse = TensorStorage(count: rows)
        let result = targets.values.withUnsafeBufferPointer { tp in
            Kernels.backend.crossEntropyForward(logits: logits.pointer, targets: tp.baseAddress!, logSumExp: lse.pointer,
                                                rows: rows, vocab: vocab, ignoreIndex: ignoreIndex)
        }
        var out = Tensor(result.loss)
        let x = logits.detached()
        record(&out, from: [logits]) { g, _ in
            var dx = Tensor(uninitializedShape: x.shape)
            targets.values.withUnsafeBufferPointer { tp in
                Kernels.backend.crossEntropyBackward(logits: x.pointer, targets: tp.baseAddress!, logSumExp: lse.pointer,
                                                     dLoss: g.item, count: result.count, dLogits: dx.mutablePointer,
                                                     rows: rows, vocab: vocab, ignoreIndex: ignoreIndex)
            }
            return [dx]
        }
        return out
    }
}
