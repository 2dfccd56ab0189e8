// A short product (one the split would cut by columns) whose row blocks the threads claim as
// they go, each block of op(B) packed once, by all threads together, into a buffer they share.
//
//   for each block of op(B) (phase q: nc columns × kc steps, in order), in buffer q % 2:
//       wait until phase q − 2, the buffer's last reader, is done
//       claim chunks of the block's panels and pack them (and sum their columns)
//       wait until every chunk is packed
//       claim row blocks (mc rows): C[rows, cols] (+)= op(A)[rows, ks] · block
//
// GEMMClaimedRows has every thread pack all of op(B) for itself, which costs little beside a tall
// C's work. A short C (a weight gradient Xᵀ·dY of a few hundred rows, a language-model head's
// logits for a chunk of tokens) was instead split in fixed column halves, so that each thread
// packed only its own half of op(B); on a shared host, the calling thread then waited 1–5 ms a
// product for the other (a thread the machine stopped for a while) in the small preset's step.
// Here any thread takes whatever part of the work is left, and op(B) is still packed once.
// A product whose k-block of op(A) fits in L2 (up to 1,024 rows) goes to GEMMClaimedColumnsByPhase
// instead, where each thread packs its own chunks of op(B) and none reads the other's.
// Each tile of C is the same sum of the same products in the same order whichever thread computes
// it, and each column sum is added k-block after k-block: the same bits as one thread's.

import LianKernelsC
import Synchronization

extension GEMM {
    /// Whether a product split by columns is shared out this way instead: a short op(A) too large
    /// to pack once per thread (claimsColumns), and C at least `sharedPanelsMinimumRowBlocks` row
    /// blocks tall, so that the last one claimed is a small part of a phase.
    @inline(__always)
    static func sharesPanels(m: Int, mc: Int) -> Bool {
        sharedPanelsEnabled && (m + mc - 1) / mc >= sharedPanelsMinimumRowBlocks
    }

    static let sharedPanelsMinimumRowBlocks = 4
    /// `LIAN_GEMM_SHARED_PANELS=0` splits these products in fixed column halves as before (for A/B runs).
    static let sharedPanelsEnabled = tuning("LIAN_GEMM_SHARED_PANELS", 1) != 0

    /// Columns of op(B) packed per claim: four panels of the 8×32 kernel.
    static let sharedPanelsPackChunk = 128

    /// See the file header: C = alpha · op(A) · op(B) + beta · C over `threads` threads.
    @inline(__always)
    static func splitByClaimedRowsSharingPanels<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ threads: Int, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?,
        _ columnSums: UnsafeMutablePointer<Float>?, _ epilogue: GEMMEpilogue
    ) {
        let nr = K.nr
        let plan = ClaimedRowBlocking(K.self, transA: transA, alpha: alpha, m: m, n: n, k: k)
        let packChunk = max(nr, sharedPanelsPackChunk / nr * nr)
        // Per phase: the next chunk of panels to pack, the chunks packed, the next row block to
        // hand out, the row blocks done; per row block: how many phases of it are in C.
        let counters = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 4 * plan.phases + plan.rowBlocks)
        for i in 0..<(4 * plan.phases + plan.rowBlocks) { (counters + i).initialize(to: Atomic(0)) }
        defer { counters.deinitialize(count: 4 * plan.phases + plan.rowBlocks); counters.deallocate() }
        nonisolated(unsafe) let packClaims = counters, packed = counters + plan.phases
        nonisolated(unsafe) let rowClaims = counters + 2 * plan.phases, rowsDone = counters + 3 * plan.phases
        nonisolated(unsafe) let written = counters + 4 * plan.phases
        if beta != 0 && beta != 1 { scaleRows(c: c, m: m, n: n, ldc: ldc, beta: beta) }
        // Two blocks of op(B), taken in turn; a wide product's op(A), packed once (see GEMMClaimedRows).
        let blockSize = plan.nc * plan.kc
        let shared = BufferPool.shared.take(2 * blockSize + (plan.wide ? plan.mPadded * k : 0))
        defer { BufferPool.shared.give(shared.pointer, capacity: shared.capacity) }
        let S = SendablePointer(shared.pointer + 2 * blockSize), blocksOfB = SendablePointer(shared.pointer)
        let A = SendablePointer(a), B = SendablePointer(b), C = SendablePointer(c)
        let biasPointer = bias.map { SendablePointer($0) }, sums = columnSums.map { SendablePointer($0) }
        parallelFor(threads) { _ in
            withPackingBuffers(a: plan.readsAInPlace || plan.wide ? 1 : plan.mc * plan.kc, b: 1) { packedA, _ in
                var phase = 0
                var j0 = 0
                while j0 < n {
                    let ncCur = min(plan.nc, n - j0)
                    var p0 = 0
                    while p0 < k {
                        let kcCur = min(plan.kc, k - p0)
                        defer { phase += 1; p0 += kcCur }
                        let chunks = (ncCur + packChunk - 1) / packChunk
                        // A thread that starts late may find a block's rows all claimed already,
                        // and so its packing done; it still waits to see that packing, whose
                        // column sums it may add to in a later phase.
                        if rowClaims[phase].load(ordering: .relaxed) >= plan.rowBlocks {
                            while packed[phase].load(ordering: .acquiring) < chunks { lian_spin_pause() }
                            continue
                        }
                        let block = blocksOfB.base + (phase % 2) * blockSize
                        if phase >= 2 {
                            while rowsDone[phase - 2].load(ordering: .acquiring) < plan.rowBlocks { lian_spin_pause() }
                        }
                        while true {
                            let chunk = packClaims[phase].add(1, ordering: .relaxed).oldValue
                            if chunk >= chunks { break }
                            let c0 = chunk * packChunk, width = min(packChunk, ncCur - c0)
                            packB(transB: transB, b: B.base, ldb: ldb, p0: p0, kc: kcCur, j0: j0 + c0, nc: width, nr: nr,
                                  into: block + c0 * kcCur)
                            if let sums {
                                // The previous k-block's sums of these columns were added before
                                // this phase's packing began (every thread waits for a phase's
                                // packing before it goes on to the next).
                                sumPackedColumns(block + c0 * kcCur, kc: kcCur, nc: width, nr: nr, into: sums.base + j0 + c0,
                                                 first: p0 == 0)
                            }
                            packed[phase].add(1, ordering: .releasing)
                        }
                        while packed[phase].load(ordering: .acquiring) < chunks { lian_spin_pause() }
                        let accumulate = p0 > 0 || beta != 0
                        let blockBias = p0 == 0 ? biasPointer.map { UnsafePointer($0.base + j0) } : nil
                        while true {
                            let i = rowClaims[phase].add(1, ordering: .relaxed).oldValue
                            if i >= plan.rowBlocks { break }
                            multiplyClaimedRowBlock(K.self, plan, i, phase: phase, m: m, k: k, j0: j0, nc: ncCur, p0: p0, kc: kcCur,
                                                    transA: transA, a: A.base, lda: lda, alpha: alpha, sharedA: S.base, packedA: packedA,
                                                    packedB: block, c: C.base, ldc: ldc, accumulate: accumulate, bias: blockBias,
                                                    epilogue: epilogue, written: written)
                            rowsDone[phase].add(1, ordering: .releasing)
                        }
                    }
                    j0 += ncCur
                }
            }
        }
    }
}
