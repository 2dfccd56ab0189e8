// Scaled dot-product attention, causal or not, with grouped-query heads; forward and backward.
//
// B = batch, T = time, H = query heads, G = key/value heads (H % G == 0; G == H is plain MHA),
// D = head size. Query head h reads key/value head h / (H / G).
// Layout: element (b, t, head, d) of q sits at q[(b·T + t)·qRowStride + head·D + d], likewise k
// and v with kvRowStride, and out/dOut are [B, T, H, D]. Plain tensors have qRowStride = H·D and
// kvRowStride = G·D; a fused projection [B, T, (H + 2G)·D] is read in place by pointing q, k and
// v at its three parts with every row stride (H + 2G)·D. probs (saved): [B, H, T, T].
//
// Per (b, h):  S = scale · Q Kᵀ,  P = softmax(S) (row i sees columns 0...i when causal),  O = P V
// Backward:    dP = dO Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//              dQ = scale · dS K,  dK += scale · dSᵀ Q,  dV += Pᵀ dO
// With dropout (probability p, training only), P' = P ⊙ mask / (1 − p) replaces P in O = P' V and
// dV; dP' = dO Vᵀ becomes dP = dP' ⊙ mask / (1 − p) before the softmax backward. The mask of head
// (b, h) is drawn from its own generator seeded from (seed, b·H + h), so it does not depend on
// how the work is split over threads. P' is saved beside P (`dropped`).
// When causal, rows are processed in blocks of `rowBlock`: block [r0, r1) only needs columns
// 0..<r1, which skips most of the upper triangle (≈ 40% of the work at T = 256).
// Heads are independent in the forward pass; in the backward pass heads that share a key/value
// head write the same dK/dV, so work is split by (b, g) instead. Kᵀ (forward) and Vᵀ (backward)
// are transposed once per head, so that every product here has a right operand read by rows;
// those and V (forward) and K (backward) are copied per head with a padded row stride, so that
// they stay in L1 while a row block's tiles read them again (paddedStride).

public struct AttentionShape: Sendable, Equatable {
    public var batch: Int, time: Int, heads: Int, kvHeads: Int, headSize: Int
    /// Elements between consecutive time steps of q (and dq), and of k, v (and dk, dv).
    public var qRowStride: Int, kvRowStride: Int

    public init(batch: Int, time: Int, heads: Int, kvHeads: Int, headSize: Int,
                qRowStride: Int? = nil, kvRowStride: Int? = nil) {
        precondition(heads % kvHeads == 0, "[attention] \(heads) query heads are not a multiple of \(kvHeads) key/value heads")
        self.batch = batch; self.time = time; self.heads = heads; self.kvHeads = kvHeads; self.headSize = headSize
        self.qRowStride = qRowStride ?? heads * headSize
        self.kvRowStride = kvRowStride ?? kvHeads * headSize
    }
    var group: Int { heads / kvHeads }
}

/// Dropout on the attention probabilities.
public struct AttentionDropout: Sendable {
    public var probability: Float
    public var seed: UInt64
    public init(probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "[attention] dropout probability \(probability) outside [0, 1)")
        self.probability = probability; self.seed = seed
    }

    func generator(head: Int) -> SeededRandom {
        SeededRandom(seed: seed ^ (UInt64(head) &* 0x9E37_79B9_7F4A_7C15))
    }
}

public enum Attention {
    /// Rows per block in the causal case.
    static let rowBlock = 64

    /// The row stride of a per-head copy of n floats a row: a whole, odd number of 64-byte cache
    /// lines. Rows a power-of-two number of lines apart (1 KiB for T = 256, 4.5 KiB for a fused
    /// projection's rows) fall in a few of L1's 64 sets, and a 32-column panel walked down k rows
    /// then evicts itself before the next row tile of C reads it again; an odd stride spreads the
    /// rows over every set. Forward 0.89×, backward 0.93× at B 8, T 256, 6 heads of 64.
    static func paddedStride(_ n: Int) -> Int {
        let lines = (n + 15) / 16
        return (lines % 2 == 0 ? lines + 1 : lines) * 16
    }

    /// The row blocks [r0, r1) and the columns each needs.
    static func blocks(time: Int, causal: Bool) -> [(rows: Range<Int>, columns: Int)] {
        guard causal else { return [(0..<time, time)] }
        return stride(from: 0, to: time, by: rowBlock).map { r0 in
            let r1 = min(time, r0 + rowBlock)
            return (r0..<r1, r1)
        }
    }

    /// Forward pass. Writes `out` [B, T, H, D] and `probs` [B, H, T, T] (zeros above the diagonal
    /// when causal).
    public static func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
        shape s: AttentionShape, scale: Float, causal: Bool,
        dropout: AttentionDropout? = nil, dropped: UnsafeMutablePointer<Float>? = nil
    ) {
        let T = s.time, D = s.headSize, H = s.heads
        let qs = s.qRowStride, kvs = s.kvRowStride
        let Q = SendablePointer(q), K = SendablePointer(k), V = SendablePointer(v)
        let O = SendablePointer(out), P = SendablePointer(probs)
        precondition(dropout == nil || dropped != nil, "[attention] dropout needs a buffer for the dropped probabilities")
        let PD = dropped.map { SendablePointer($0) }
        let rowBlocks = blocks(time: T, causal: causal)
        parallelFor(s.batch * H) { task in
            let b = task / H, h = task % H, g = h / s.group
            let qbh = Q.base + b * T * qs + h * D
            let kbg = K.base + b * T * kvs + g * D
            let vbg = V.base + b * T * kvs + g * D
            // Kᵀ and V as padded copies, the right operands of Q·Kᵀ and P·V (see paddedStride).
            let ldK = paddedStride(T), ldV = paddedStride(D)
            let keysT = BufferPool.shared.take(D * ldK)
            let values = BufferPool.shared.take(T * ldV)
            defer {
                BufferPool.shared.give(keysT.pointer, capacity: keysT.capacity)
                BufferPool.shared.give(values.pointer, capacity: values.capacity)
            }
            transpose(kbg, rowStride: kvs, rows: T, columns: D, into: keysT.pointer, stride: ldK)
            copyRows(vbg, rowStride: kvs, rows: T, columns: D, into: values.pointer, stride: ldV)
            let obh = O.base + b * T * H * D + h * D
            let pbh = P.base + (b * H + h) * T * T
            var rng = dropout?.generator(head: b * H + h)
            let keep = 1 - (dropout?.probability ?? 0)
            for (rows, columns) in rowBlocks {
                let r0 = rows.lowerBound, n = rows.count
                let pBlock = pbh + r0 * T
                product(transA: false, m: n, n: columns, k: D, alpha: scale, a: qbh + r0 * qs, lda: qs,
                        b: keysT.pointer, ldb: ldK, beta: 0, c: pBlock, ldc: T, skipping: causal ? .columnsPastRow(offset: r0) : nil)
                for i in rows {
                    Softmax.maskedRow(pbh + i * T, visible: causal ? i + 1 : T, width: T)
                }
                var used = UnsafePointer(pBlock)
                if let PD, rng != nil {
                    let dBlock = PD.base + (b * H + h) * T * T + r0 * T
                    for i in 0..<(n * T) { dBlock[i] = rng!.nextUniform() < keep ? pBlock[i] / keep : 0 }
                    used = UnsafePointer(dBlock)
                }
                product(transA: false, m: n, n: D, k: columns, a: used, lda: T, b: values.pointer, ldb: ldV, beta: 0,
                        c: obh + r0 * H * D, ldc: H * D, skipping: causal ? .kPastRow(offset: r0) : nil)
            }
        }
    }

    /// Backward pass. Writes dq (row stride qRowStride), dk and dv (row stride kvRowStride),
    /// overwriting them; dOut is [B, T, H, D].
    public static func backward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs: UnsafePointer<Float>,
        dOut: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
        dv: UnsafeMutablePointer<Float>, shape s: AttentionShape, scale: Float, causal: Bool,
        dropout: AttentionDropout? = nil, dropped: UnsafePointer<Float>? = nil
    ) {
        let T = s.time, D = s.headSize, H = s.heads, G = s.kvHeads
        let PD = dropped.map { SendablePointer($0) }
        let keep = 1 - (dropout?.probability ?? 0)
        let qs = s.qRowStride, kvs = s.kvRowStride
        let Q = SendablePointer(q), K = SendablePointer(k), V = SendablePointer(v), P = SendablePointer(probs)
        let DO = SendablePointer(dOut), DQ = SendablePointer(dq), DK = SendablePointer(dk), DV = SendablePointer(dv)
        let rowBlocks = blocks(time: T, causal: causal)
        parallelFor(s.batch * G) { task in
            let b = task / G, g = task % G
            let kbg = K.base + b * T * kvs + g * D, vbg = V.base + b * T * kvs + g * D
            let dkbg = DK.base + b * T * kvs + g * D, dvbg = DV.base + b * T * kvs + g * D
            let scratch = BufferPool.shared.take(rowBlocks.map { $0.rows.count * $0.columns }.max() ?? 1)
            let dS = scratch.pointer
            // Vᵀ and K as padded copies, the right operands of dO·Vᵀ and dS·K (see paddedStride).
            let ldV = paddedStride(T), ldK = paddedStride(D)
            let valuesT = BufferPool.shared.take(D * ldV)
            let keys = BufferPool.shared.take(T * ldK)
            defer {
                BufferPool.shared.give(dS, capacity: scratch.capacity)
                BufferPool.shared.give(valuesT.pointer, capacity: valuesT.capacity)
                BufferPool.shared.give(keys.pointer, capacity: keys.capacity)
            }
            transpose(vbg, rowStride: kvs, rows: T, columns: D, into: valuesT.pointer, stride: ldV)
            copyRows(kbg, rowStride: kvs, rows: T, columns: D, into: keys.pointer, stride: ldK)
            for h in (g * s.group)..<((g + 1) * s.group) {
                let qbh = Q.base + b * T * qs + h * D, dqbh = DQ.base + b * T * qs + h * D
                let dobh = DO.base + b * T * H * D + h * D
                let pbh = P.base + (b * H + h) * T * T
                let dropBH = (dropout != nil) ? PD.map { $0.base + (b * H + h) * T * T } : nil
                // The last row block sees every column, so it goes first and, for the group's first
                // head, writes dK and dV instead of adding to them (no zeroing pass).
                for (blockIndex, (rows, columns)) in rowBlocks.enumerated().reversed() {
                    let r0 = rows.lowerBound, n = rows.count
                    let dkvBeta: Float = h == g * s.group && blockIndex == rowBlocks.count - 1 ? 0 : 1
                    let pBlock = pbh + r0 * T, doBlock = dobh + r0 * H * D
                    // dV[0..<columns] += P_blockᵀ dO_block  (P' with dropout)
                    product(transA: true, m: columns, n: D, k: n, a: dropBH.map { UnsafePointer($0 + r0 * T) } ?? UnsafePointer(pBlock),
                            lda: T, b: doBlock, ldb: H * D, beta: dkvBeta, c: dvbg, ldc: kvs, skipping: causal ? .kBeforeRow(offset: r0) : nil)
                    // dP = dO_block Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) row by row (ld = columns).
                    product(transA: false, m: n, n: columns, k: D, a: doBlock, lda: H * D, b: valuesT.pointer,
                            ldb: ldV, beta: 0, c: dS, ldc: columns, skipping: causal ? .columnsPastRow(offset: r0) : nil)
                    for i in rows {
                        let visible = causal ? i + 1 : T
                        let dsRow = dS + (i - r0) * columns
                        if let dropBH {
                            // dP = dP' ⊙ mask / keep: kept entries are those with P' ≠ 0.
                            let dropRow = dropBH + i * T
                            for j in 0..<visible { dsRow[j] = dropRow[j] != 0 ? dsRow[j] / keep : 0 }
                        }
                        Softmax.maskedRowBackward(pbh + i * T, dsRow, visible: visible, width: columns)
                    }
                    // dQ_block = scale · dS K;  dK[0..<columns] += scale · dSᵀ Q_block
                    product(transA: false, m: n, n: D, k: columns, alpha: scale, a: dS, lda: columns,
                            b: keys.pointer, ldb: ldK, beta: 0, c: dqbh + r0 * qs, ldc: qs, skipping: causal ? .kPastRow(offset: r0) : nil)
                    product(transA: true, m: columns, n: D, k: n, alpha: scale, a: dS, lda: columns,
                            b: qbh + r0 * qs, ldb: qs, beta: dkvBeta, c: dkbg, ldc: kvs, skipping: causal ? .kBeforeRow(offset: r0) : nil)
                }
            }
        }
    }

    /// One per-head product, C = alpha · op(A) · B + beta · C on this thread. Where the unpacked
    /// small-product path takes it (as GEMM.sgemm would), the causal mask's zeros are skipped by
    /// whole tiles (SmallGEMM.CausalSkip: ~17% of the score products' tiles and ~30% of the
    /// probability products' multiply-adds at T = 128); elsewhere it is GEMM.sgemm. The same
    /// values either way.
    @inline(__always)
    static func product(transA: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                        skipping skip: SmallGEMM.CausalSkip?) {
        if GEMM.takesSmallPath(transB: false, m: m, n: n, k: k, threads: 1, kernel: .automatic) {
            SmallGEMM.run(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                          beta: beta, c: c, ldc: ldc, bias: nil, skipping: skip)
        } else {
            GEMM.sgemm(transA: transA, transB: false, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc, threads: 1)
        }
    }

    /// Writes the columns × rows transpose of a rows × columns block (row stride `rowStride`)
    /// into `dst` (row stride `stride`): keys and values transposed once per head, so that Q·Kᵀ
    /// and dO·Vᵀ read their right operand by rows (the unpacked small-product path of GEMM).
    static func transpose(_ src: UnsafePointer<Float>, rowStride: Int, rows: Int, columns: Int,
                          into dst: UnsafeMutablePointer<Float>, stride: Int) {
        var r0 = 0
        while r0 + 16 <= rows && columns % 16 == 0 {
            transposeStrip16(src + r0 * rowStride, rowStride: rowStride, columns: columns, into: dst + r0, stride: stride)
            r0 += 16
        }
        for r in r0..<rows {
            let row = src + r * rowStride
            for c in 0..<columns { dst[c * stride + r] = row[c] }
        }
    }

    /// Copies a rows × columns block (row stride `rowStride`) into `dst` (row stride `stride`).
    static func copyRows(_ src: UnsafePointer<Float>, rowStride: Int, rows: Int, columns: Int,
                         into dst: UnsafeMutablePointer<Float>, stride: Int) {
        for r in 0..<rows { (dst + r * stride).update(from: src + r * rowStride, count: columns) }
    }

    /// 16 rows × `columns` (a multiple of 16) transposed in 16×16 register blocks.
    @inline(never)
    static func transposeStrip16(_ src: UnsafePointer<Float>, rowStride: Int, columns: Int,
                                 into dst: UnsafeMutablePointer<Float>, stride: Int) {
        var c0 = 0
        while c0 < columns {
            transpose16(src + c0, rowStride, into: dst + c0 * stride, stride: stride)
            c0 += 16
        }
    }

    /// The naive forward: explicit loops over every (b, h, i, j), in any precision. Plain layout.
    public static func reference<F: ReferenceScalar>(q: [F], k: [F], v: [F], shape s: AttentionShape,
                                                     scale: F, causal: Bool) -> [F] {
        let T = s.time, D = s.headSize, H = s.heads, G = s.kvHeads
        var out = [F](repeating: 0, count: s.batch * T * H * D)
        for b in 0..<s.batch {
            for h in 0..<H {
                let g = h / s.group
                for i in 0..<T {
                    var scores = [F]()
                    let visible = causal ? i + 1 : T
                    for j in 0..<visible {
                        var dot: F = 0
                        for d in 0..<D { dot += q[((b * T + i) * H + h) * D + d] * k[((b * T + j) * G + g) * D + d] }
                        scores.append(dot * scale)
                    }
                    let m = scores.max()!
                    let e = scores.map { F.exp($0 - m) }
                    let sum = e.reduce(0, +)
                    for d in 0..<D {
                        var acc: F = 0
                        for j in 0..<visible { acc += e[j] / sum * v[((b * T + j) * G + g) * D + d] }
                        out[((b * T + i) * H + h) * D + d] = acc
                    }
                }
            }
        }
        return out
    }
}
