// A short, wide product split by columns whose op(A) is too large to pack whole once per thread
// (GEMMClaimedColumns): its column chunks are claimed k-block by k-block, each thread packing the
// k-block's op(A) for itself.
//
//   for each k-block of op(A) (a phase, in order):
//       every thread: pack op(A)[:, ks] (mPadded × kc; it stays in L2)
//       claim chunks of columns, thread 0 from the left and thread 1 from the right:
//           pack that chunk's block of op(B); C[:, chunk] (+)= op(A)[:, ks] · B block
//
// GEMMSharedPanels packs each block of op(B) once, by both threads together, into a buffer they
// share: half of every block then comes from the other core's cache, and both threads pack at
// once, between barriers. Its products ran 0.88–0.93× OpenBLAS with two threads (the small
// preset's weight gradients, 384 × 2048 × 1152–1536; 768 × 2048 × 3072), where one thread ran
// 0.95–0.99×. Here each thread packs and reads only its own chunks of op(B), and claims them from
// its own end, so that a chunk's columns of C stay with one thread from phase to phase; a thread
// that the machine stops leaves its chunks to the other, as in GEMMSharedPanels. op(A) is packed
// once per thread instead of once in all (a k-block of 384 × 384 is 576 KiB).
// A chunk's phase q waits until its phase q − 1 is written (claimed before, so this waits one
// chunk's work at most). Each tile of C is the same sum of the same products in the same order
// whichever thread computes it, and each column sum is added k-block after k-block: the same bits
// as one thread's.

import LianKernelsC
import Synchronization

extension GEMM {
    /// Whether a product split by columns claims its column chunks phase by phase (checked after
    /// claimsColumns, whose op(A) is small enough to pack whole once per thread): one k-block of
    /// op(A) within `columnsByPhaseMaximumA`. A single k-block counts too: 768 × 384 × 3072 and
    /// the small preset's head, 1024 × 384 × 4096, ran 3–5% faster than through GEMMSharedPanels.
    @inline(__always)
    static func claimsColumnsByPhase<K: GEMMMicroKernel>(_ kernel: K.Type, m: Int, n: Int, k: Int) -> Bool {
        let (kc, _, _) = blockSizes(K.self, m: m, n: n, k: k)
        return columnsByPhaseEnabled && roundUp(m, K.mr) * kc <= columnsByPhaseMaximumA
    }

    /// The most floats of one k-block of op(A) (1.5 MiB: 1,024 rows at kc 384), which each thread
    /// keeps in L2 beside a chunk of op(B) (384 KiB) while it claims chunks.
    static let columnsByPhaseMaximumA = 3 << 17

    /// `LIAN_GEMM_COLUMNS_BY_PHASE=0` sends these products to GEMMSharedPanels as before (for A/B runs).
    static let columnsByPhaseEnabled = tuning("LIAN_GEMM_COLUMNS_BY_PHASE", 1) != 0

    /// Columns per claim: eight panels of the 8×32 kernel, each A micro-panel in L1 multiplied by
    /// eight B panels before the next. Against 128 (paired calls, two threads): 768 × 2048 × 3072
    /// and 768 × 384 × 3072 +2–3%, 384 × 2048 × 1152–1536 and the head 0–3%; 64 was slower than
    /// 128, and 512 slower for 1,152 columns (2¼ chunks: the threads' shares uneven).
    static let columnsByPhaseChunk = 256

    /// See the file header: C = alpha · op(A) · op(B) + beta · C over `threads` threads.
    @inline(__always)
    static func splitByClaimedColumnsByPhase<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ threads: Int, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?,
        _ columnSums: UnsafeMutablePointer<Float>?, _ epilogue: GEMMEpilogue
    ) {
        let nr = K.nr
        let (kc, mc, _) = blockSizes(K.self, m: m, n: n, k: k)
        let mPadded = roundUp(m, K.mr)
        let chunk = max(nr, columnsByPhaseChunk / nr * nr)
        let chunks = (n + chunk - 1) / chunk, phases = (k + kc - 1) / kc
        // Per phase: how many chunks were taken from the left (low 32 bits) and from the right
        // (high 32 bits); per chunk: how many phases of it are in C.
        let counters = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: phases + chunks)
        for i in 0..<(phases + chunks) { (counters + i).initialize(to: Atomic(0)) }
        defer { counters.deinitialize(count: phases + chunks); counters.deallocate() }
        nonisolated(unsafe) let claims = counters, written = counters + phases
        if beta != 0 && beta != 1 { scaleRows(c: c, m: m, n: n, ldc: ldc, beta: beta) }
        let A = SendablePointer(a), B = SendablePointer(b), C = SendablePointer(c)
        let biasPointer = bias.map { SendablePointer($0) }, sums = columnSums.map { SendablePointer($0) }
        parallelFor(threads) { t in
            let fromRight = t % 2 == 1
            withPackingBuffers(a: mPadded * kc, b: chunk * kc) { packedA, packedB in
                for phase in 0..<phases {
                    let p0 = phase * kc, kcCur = min(kc, k - p0)
                    // A thread that starts late may find a phase's chunks all claimed already.
                    if totalClaimed(claims[phase].load(ordering: .relaxed)) >= chunks { continue }
                    var i0 = 0
                    while i0 < m {
                        let mcCur = min(mc, m - i0)
                        packA(transA: transA, a: A.base, lda: lda, i0: i0, mc: mcCur, p0: p0, kc: kcCur, alpha: alpha, mr: K.mr,
                              into: packedA + i0 * kcCur)
                        i0 += mcCur
                    }
                    while true {
                        let before = claims[phase].add(fromRight ? 1 << 32 : 1, ordering: .relaxed).oldValue
                        if totalClaimed(before) >= chunks { break }
                        let j = fromRight ? chunks - 1 - (before >> 32) : before & 0xFFFF_FFFF
                        let j0 = j * chunk, ncCur = min(chunk, n - j0)
                        while written[j].load(ordering: .acquiring) < phase { lian_spin_pause() }
                        multiplyColumnChunk(K.self, m: m, k: k, mc: mc, p0: p0, kc: kcCur, j0: j0, nc: ncCur, aBlock: packedA,
                                            transB: transB, b: B.base, ldb: ldb, packedB: packedB, c: C.base, ldc: ldc, beta: beta,
                                            bias: biasPointer?.base, columnSums: sums?.base, epilogue: epilogue, aOuter: true)
                        written[j].store(phase + 1, ordering: .releasing)
                    }
                }
            }
        }
    }

    /// The chunks a phase's claim counter has handed out (or refused): from the left plus from the right.
    @inline(__always)
    static func totalClaimed(_ counter: Int) -> Int {
        (counter & 0xFFFF_FFFF) + (counter >> 32)
    }
}
