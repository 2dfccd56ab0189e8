// A short, wide product split by columns whose column chunks the threads claim as they go, with
// all of op(A) packed once per thread.
//
//   every thread: pack all of op(A) (kc × mr panels, k-block by k-block; small: it stays in L2)
//   claim a chunk of columns: for each k-block: pack that block of op(B); C[:, chunk] (+)= op(A)[:, ks] · B block
//
// Split by columns in fixed halves, a thread that starts late or that the machine stops for a
// while leaves the other waiting at the end (see GEMMClaimedRows.swift). Each thread packed all
// of a short op(A) once before too, so claiming costs no extra packing. GPT-2 124M's products
// (256 tokens a step) alone: 3–14% faster on a busy machine; its step 4% (in-process A/B). A
// larger op(A) would be read back from L3 for every chunk (measured 2–10% slower for the small
// preset's weight gradients, whose op(A) is 3 MiB), so those stay split in halves. Each tile of
// C is the same sum of the same products in the same order whichever thread computes it: the
// same bits as one thread's.

import Synchronization

extension GEMM {
    /// The most floats of packed op(A) (1 MiB, half of L2) for which a product split by columns
    /// claims its column chunks.
    static let claimedColumnsMaximumA = 1 << 18

    /// Whether a product split by columns claims chunks of columns (see the file header).
    @inline(__always)
    static func claimsColumns(m: Int, k: Int, mr: Int) -> Bool {
        roundUp(m, mr) * k <= claimedColumnsMaximumA
    }

    /// See the file header: C = alpha · op(A) · op(B) + beta · C split over `threads` threads by
    /// chunks of columns (about four per thread, at most nc each, and narrow enough that a chunk's
    /// block of op(B) fits in L2 beside a k-block of op(A): columnsBesideResidentA) claimed from a counter;
    /// `columnSums` are summed by whichever thread claims the columns.
    @inline(__always)
    static func splitByClaimedColumns<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ threads: Int, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?,
        _ columnSums: UnsafeMutablePointer<Float>?, _ epilogue: GEMMEpilogue
    ) {
        let nr = K.nr
        let (kcMax, mcMax, _) = blockSizes(K.self, m: m, n: n, k: k)
        let mPadded = roundUp(m, K.mr)
        let widest = min((nc / nr) * nr, columnsBesideResidentA(K.self, kc: kcMax, mPadded: mPadded))
        let chunk = min(widest, max(nr, roundUp((n + 4 * threads - 1) / (4 * threads), nr)))
        let chunks = (n + chunk - 1) / chunk
        if beta != 0 && beta != 1 { scaleRows(c: c, m: m, n: n, ldc: ldc, beta: beta) }
        let claims = Atomic<Int>(0)
        let A = SendablePointer(a), B = SendablePointer(b), C = SendablePointer(c)
        let biasPointer = bias.map { SendablePointer($0) }, sums = columnSums.map { SendablePointer($0) }
        parallelFor(threads) { _ in
            // A thread that starts late may find every chunk claimed already.
            if claims.load(ordering: .relaxed) >= chunks { return }
            withPackingBuffers(a: mPadded * k, b: chunk * kcMax) { packedA, packedB in
                // Block (p0, i0) of the packed op(A) starts at p0·mPadded + i0·kc.
                packAllOfA(K.self, transA: transA, a: A.base, lda: lda, m: m, k: k, alpha: alpha, into: packedA)
                while true {
                    let j = claims.add(1, ordering: .relaxed).oldValue
                    if j >= chunks { return }
                    let j0 = j * chunk, ncCur = min(chunk, n - j0)
                    var p0 = 0
                    while p0 < k {
                        let kcCur = min(kcMax, k - p0)
                        multiplyColumnChunk(K.self, m: m, k: k, mc: mcMax, p0: p0, kc: kcCur, j0: j0, nc: ncCur,
                                            aBlock: packedA + p0 * mPadded, transB: transB, b: B.base, ldb: ldb, packedB: packedB,
                                            c: C.base, ldc: ldc, beta: beta, bias: biasPointer?.base, columnSums: sums?.base,
                                            epilogue: epilogue, aOuter: false)
                        p0 += kcCur
                    }
                }
            }
        }
    }

    /// One k-block of a chunk of columns: its block of op(B) packed into `packedB` (and its column
    /// sums added), then C[:, j0..<j0+nc] (+)= op(A)[:, p0..<p0+kc] · block over the row blocks of a
    /// packed k-block of op(A) (row block i0 at aBlock + i0·kc), A micro-panel by A micro-panel
    /// where `aOuter`; the epilogue after the last k-block.
    @inline(__always)
    static func multiplyColumnChunk<K: GEMMMicroKernel>(
        _ kernel: K.Type, m: Int, k: Int, mc: Int, p0: Int, kc: Int, j0: Int, nc: Int, aBlock: UnsafePointer<Float>,
        transB: Bool, b: UnsafePointer<Float>, ldb: Int, packedB: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
        ldc: Int, beta: Float, bias: UnsafePointer<Float>?, columnSums: UnsafeMutablePointer<Float>?, epilogue: GEMMEpilogue,
        aOuter: Bool
    ) {
        packB(transB: transB, b: b, ldb: ldb, p0: p0, kc: kc, j0: j0, nc: nc, nr: K.nr, into: packedB)
        if let columnSums { sumPackedColumns(packedB, kc: kc, nc: nc, nr: K.nr, into: columnSums + j0, first: p0 == 0) }
        let blockBias = p0 == 0 ? bias.map { $0 + j0 } : nil     // added once, with the first k-block
        var i0 = 0
        while i0 < m {
            let mcCur = min(mc, m - i0)
            multiplyPackedRowBlock(K.self, i0: i0, mc: mcCur, kc: kc, nc: nc, aBlock: aBlock + i0 * kc, packedB: packedB,
                                   c: c + j0, ldc: ldc, accumulate: p0 > 0 || beta != 0, bias: blockBias, aOuter: aOuter)
            i0 += mcCur
        }
        if p0 + kc == k { epilogue.apply(c: c, ldc: ldc, i0: 0, rows: m, j0: j0, cols: nc) }
    }
}
