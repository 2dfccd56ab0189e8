// A product split by rows whose row blocks the threads claim as they go, instead of a fixed half
// each.
//
//   for each block of B (nc columns × kc steps, in order):   every thread packs it for itself
//       claim row blocks (mc rows) from the block's counter: C[rows, cols] (+)= op(A)[rows, ks] · B block
//
// With a fixed half each, a thread that starts late or that the machine stops for a while (on a
// shared host, many times a step) leaves the other one waiting at the end of the product;
// claimed blocks go to whichever thread is running. In the small preset's step the calling
// thread waited ~30 ms a step at the end of products split by rows, and ~3 ms with claiming.
// Every thread packed all of op(B) before too, so claiming costs no extra packing. A row block's
// k-blocks must still be added in order: a thread that claims block i of k-block p waits until
// k-block p − 1 of block i is written (it was claimed before, so it is being written or done).
// Each tile of C is the same sum of the same products in the same order whichever thread
// computes it, so the result is the same bits as one thread's. A product wider than nc packs
// op(A) once, into a buffer the threads share (see isWide in GEMM.swift).

import LianKernelsC
import Synchronization

extension GEMM {
    /// Row blocks (mc rows) from which claiming starts to pay: a product of fewer stays split in
    /// fixed parts.
    static let claimedRowBlocksMinimum = 8

    /// See the file header: C = alpha · op(A) · op(B) + beta · C split over `threads` threads by
    /// row blocks claimed from counters. `columnSums` are summed by whichever thread runs part 0
    /// (it packs every block of op(B); a later part skips the blocks whose rows are all claimed).
    @inline(__always)
    static func splitByClaimedRows<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ threads: Int, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?,
        _ columnSums: UnsafeMutablePointer<Float>?, _ epilogue: GEMMEpilogue
    ) {
        let nr = K.nr
        let plan = ClaimedRowBlocking(K.self, transA: transA, alpha: alpha, m: m, n: n, k: k)
        // claims[phase]: the next row block of that (column block, k-block) to hand out;
        // written[i]: how many phases of row block i are in C.
        let claims = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: plan.phases)
        let written = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: plan.rowBlocks)
        for i in 0..<plan.phases { (claims + i).initialize(to: Atomic(0)) }
        for i in 0..<plan.rowBlocks { (written + i).initialize(to: Atomic(0)) }
        defer {
            claims.deinitialize(count: plan.phases); claims.deallocate()
            written.deinitialize(count: plan.rowBlocks); written.deallocate()
        }
        if beta != 0 && beta != 1 { scaleRows(c: c, m: m, n: n, ldc: ldc, beta: beta) }
        // A wide product packs op(A) once, into a buffer both threads share: a row block's k-block is
        // packed by whichever thread claims it in the first column block, before that phase of the
        // row block is marked written, which every later phase of the row block waits for.
        let shared = BufferPool.shared.take(plan.wide ? plan.mPadded * k : 1)
        defer { BufferPool.shared.give(shared.pointer, capacity: shared.capacity) }
        let S = SendablePointer(shared.pointer)
        let A = SendablePointer(a), B = SendablePointer(b), C = SendablePointer(c)
        let biasPointer = bias.map { SendablePointer($0) }, sums = columnSums.map { SendablePointer($0) }
        nonisolated(unsafe) let Claims = claims, Written = written
        parallelFor(threads) { t in
            withPackingBuffers(a: plan.readsAInPlace || plan.wide ? 1 : plan.mc * plan.kc, b: plan.nc * plan.kc) { packedA, packedB in
                var phase = 0
                var j0 = 0
                while j0 < n {
                    let ncCur = min(plan.nc, n - j0)
                    var p0 = 0
                    while p0 < k {
                        let kcCur = min(plan.kc, k - p0)
                        // A thread that starts late may find a block's rows all claimed already.
                        if t != 0 && Claims[phase].load(ordering: .relaxed) >= plan.rowBlocks {
                            phase += 1; p0 += kcCur
                            continue
                        }
                        packB(transB: transB, b: B.base, ldb: ldb, p0: p0, kc: kcCur, j0: j0, nc: ncCur, nr: nr, into: packedB)
                        if t == 0, let sums {
                            sumPackedColumns(packedB, kc: kcCur, nc: ncCur, nr: nr, into: sums.base + j0, first: p0 == 0)
                        }
                        let accumulate = p0 > 0 || beta != 0
                        let blockBias = p0 == 0 ? biasPointer.map { UnsafePointer($0.base + j0) } : nil
                        while true {
                            let i = Claims[phase].add(1, ordering: .relaxed).oldValue
                            if i >= plan.rowBlocks { break }
                            multiplyClaimedRowBlock(K.self, plan, i, phase: phase, m: m, k: k, j0: j0, nc: ncCur, p0: p0, kc: kcCur,
                                                    transA: transA, a: A.base, lda: lda, alpha: alpha, sharedA: S.base, packedA: packedA,
                                                    packedB: packedB, c: C.base, ldc: ldc, accumulate: accumulate, bias: blockBias,
                                                    epilogue: epilogue, written: Written)
                        }
                        phase += 1
                        p0 += kcCur
                    }
                    j0 += ncCur
                }
            }
        }
    }

    /// Row block i of a phase (columns j0..<j0+nc, k steps p0..<p0+kc of `packedB`), once its
    /// earlier phases are in C (they were claimed before this one, so this waits one block's
    /// work at most): op(A)'s rows packed (into `sharedA` in the first column block of a wide
    /// product, else into this thread's `packedA`) or read in place, the product, the epilogue
    /// after the last k-block, then the row block marked written through this phase.
    @inline(__always)
    static func multiplyClaimedRowBlock<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ plan: ClaimedRowBlocking, _ i: Int, phase: Int, m: Int, k: Int, j0: Int, nc: Int, p0: Int, kc: Int,
        transA: Bool, a: UnsafePointer<Float>, lda: Int, alpha: Float, sharedA: UnsafeMutablePointer<Float>,
        packedA: UnsafeMutablePointer<Float>, packedB: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<Float>?, epilogue: GEMMEpilogue, written: UnsafeMutablePointer<Atomic<Int>>
    ) {
        while written[i].load(ordering: .acquiring) < phase { lian_spin_pause() }
        let i0 = i * plan.mc, mc = min(plan.mc, m - i0)
        multiplyRowBlock(K.self, transA: transA, a: a, lda: lda, alpha: alpha, i0: i0, mc: mc, p0: p0, kc: kc, nc: nc,
                         readsAInPlace: plan.readsAInPlace,
                         aBlock: plan.wide ? sharedA + p0 * plan.mPadded + i0 * kc : packedA, packsA: !plan.wide || j0 == 0,
                         packedB: packedB, c: c + j0, ldc: ldc, accumulate: accumulate, bias: bias, aOuter: plan.wide)
        if p0 + kc == k { epilogue.apply(c: c, ldc: ldc, i0: i0, rows: mc, j0: j0, cols: nc) }
        written[i].store(phase + 1, ordering: .releasing)
    }
}

/// The blocking of a product whose row blocks the threads claim phase by phase, a phase being
/// one block of op(B) (nc columns × kc steps; column blocks outer, k-blocks inner):
/// GEMMClaimedRows and GEMMSharedPanels. A wide product (isWide) takes column blocks of at most
/// 512 and packs op(A) once, into a buffer the threads share.
struct ClaimedRowBlocking {
    let kc: Int, mc: Int, nc: Int, mPadded: Int
    let readsAInPlace: Bool, wide: Bool
    let rowBlocks: Int, phases: Int

    @inline(__always)
    init<K: GEMMMicroKernel>(_ kernel: K.Type, transA: Bool, alpha: Float, m: Int, n: Int, k: Int) {
        let tall = GEMM.takesTallKc(K.self, transA: transA, alpha: alpha, m: m, n: n, k: k)
        let (kcMax, mcMax, ncUsual) = GEMM.blockSizes(K.self, m: m, n: n, k: k, tall: tall)
        readsAInPlace = GEMM.readsAInPlace(K.self, transA: transA, alpha: alpha, n: n)
        mPadded = GEMM.roundUp(m, K.mr)
        wide = GEMM.isWide(n: n, ncUsual: ncUsual, mPadded: mPadded, k: k, readsAInPlace: readsAInPlace)
        kc = kcMax; mc = mcMax
        nc = wide ? GEMM.wideColumnBlock(n: n, nr: K.nr) : ncUsual
        rowBlocks = (m + mc - 1) / mc
        phases = ((n + nc - 1) / nc) * ((k + kc - 1) / kc)
    }
}
