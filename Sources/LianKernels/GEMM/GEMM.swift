// Single-precision GEMM on row-major matrices, in the three transposition cases backprop needs
// (and the fourth for completeness):
//
//   C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C  (+ bias[n] on every row, when given)
//   columnSums[n] = Σ_p op(B)[p, j]                        (when asked for)
//   op(A) = A (stored m×k, row stride lda) or Aᵀ (stored k×m)
//   op(B) = B (stored k×n, row stride ldb) or Bᵀ (stored n×k)
//
// The blocking follows GotoBLAS/BLIS: B is packed a kc×nc block at a time (kept in L2/L3), A an
// mc×kc block at a time (kept in L2; in a narrow product, read in place), and a register-tiled
// micro-kernel walks MR×NR tiles of C with one NR-wide micro-panel of B resident in L1. Two
// threads split C by columns when it is wide and by rows when it is tall, each packing its own
// panels; a tall C's row blocks, and a short op(A)'s column chunks, are claimed by whichever
// thread is free (GEMMClaimedRows.swift, GEMMClaimedColumns.swift); a short C whose op(A) is
// larger has its column chunks claimed k-block by k-block (GEMMClaimedColumnsByPhase.swift), or,
// past 1,024 rows, its row blocks, its blocks of op(B) packed by the threads together
// (GEMMSharedPanels.swift).
// A product wider than nc packs op(A) once and keeps an MR-row micro-panel of A in L1 instead,
// while column blocks of at most 512 of B stream past it from L2 (isWide).
// A weight gradient Aᵀ·B with a long k is summed in two halves of k instead (GEMMHalvesOfK.swift).

import Foundation

public enum GEMM {
    /// Block sizes: kc·NR·4 bytes of B should sit in L1 and mc·kc·4 of A in L2. kc = 384 measured
    /// best here (fewer write-backs of C) except for the tall products of `takesTallKc` (tallKc),
    /// with mc = 64 and nc = 1024 (a kc×nc block of B fits a 2 MiB L2); LIAN_GEMM_KC/MC/NC
    /// override them for tuning.
    @usableFromInline static let kc = tuning("LIAN_GEMM_KC", 384)
    @usableFromInline static let mc = tuning("LIAN_GEMM_MC", 64)
    @usableFromInline static let nc = tuning("LIAN_GEMM_NC", 1024)

    /// Whether a product is wide: wider than nc, op(A) packed (not read in place), at most
    /// `wideMaximumA` floats of it, and (in `blocked`) not a short A kept beside its column blocks.
    /// A wide product splits its columns into blocks of at most 512 (wideColumnBlock), packs op(A)
    /// once for all of them, and walks each row block A micro-panel by A micro-panel,
    /// every B panel of the block streaming past the one in L1 (multiplyRowBlock's `aOuter`): a
    /// 768 KB block of B stays in L2 where the 1.5 MB of an nc = 1024 block did not. Two threads,
    /// in-process pairs: 4096×768×3072 +3–5% (best of 30, all three cases), 2048×384×1536,
    /// 2048×384×1152 and 1024×384×4096 +5–8%; the order alone, repacking A for every 512-column
    /// block, gained nothing (session 12).
    @inline(__always)
    static func isWide(n: Int, ncUsual: Int, mPadded: Int, k: Int, readsAInPlace: Bool) -> Bool {
        !readsAInPlace && n > ncUsual && mPadded * k <= wideMaximumA
    }

    /// The most floats of op(A) a wide product packs at once (64 MiB); a larger one is blocked
    /// the usual way, so that no product holds more than this beside its operands.
    static let wideMaximumA = 1 << 24

    /// A wide product's column block: the fewest blocks of at most 512 columns, as even as whole
    /// panels allow (3072 → 6 × 512, 1536 → 3 × 512, 1152 → 3 × 384).
    @inline(__always)
    static func wideColumnBlock(n: Int, nr: Int) -> Int {
        let blocks = (n + 511) / 512
        return roundUp((n + blocks - 1) / blocks, nr)
    }

    /// kc for a tall product in the usual order (a B micro-panel held in L1 while the row block's
    /// A micro-panels stream past it): 256 instead of 384, so that the 8×32 kernel's B micro-panel
    /// (32 KiB) and an A micro-panel (8 KiB) fit in the 48 KiB L1 together; at 384 the 48 KiB
    /// panel alone fills it. It costs more passes over C (a k of 3,072 in 12 blocks instead of 8),
    /// which the L1 hits repay. Quiet machine, kc 256 against 384, two threads: 4096×3072×768
    /// +1.3–2.5% in all three cases, 4096×768×768 +0–2%, 1536×2048×384 Aᵀ·B +0.5–1%; one thread,
    /// 4096×3072×768 A·Bᵀ 154.7–155.9 → 157.1–157.8 GF/s (kc 320 between, 448 and 512 below).
    /// Products outside `takesTallKc` stay at 384: a wide product holds its A micro-panel in L1
    /// instead, and a short or in-place one measured 1–2% slower at 256.
    @usableFromInline static let tallKc = tuning("LIAN_GEMM_TALL_KC", 256)

    /// Whether a product takes `tallKc`: C at least `claimedRowBlocksMinimum` row blocks tall,
    /// taller than wide and at most nc wide, k longer than kc, op(A) packed, the 8×32 kernel.
    /// Decided from the whole product's shape, never from one thread's share of it, so that every
    /// thread count walks the same k-blocks and gives the same bits.
    @inline(__always)
    static func takesTallKc<K: GEMMMicroKernel>(_ kernel: K.Type, transA: Bool, alpha: Float, m: Int, n: Int, k: Int) -> Bool {
        K.nr == 32 && m > n && m >= claimedRowBlocksMinimum * mc && n <= nc && k > kc
            && !readsAInPlace(K.self, transA: transA, alpha: alpha, n: n)
    }

    static func tuning(_ name: String, _ value: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? value
    }

    /// The register-tile shapes. `automatic` picks 8×32 where the machine has 32 wide vector
    /// registers (AVX-512) and 6×16 elsewhere; tests name one to check both.
    public enum MicroKernelShape: Sendable, CaseIterable {
        case automatic, rows6cols16, rows8cols32
    }

    /// Whether `automatic` means the wide 8×32 kernel on this machine.
    public static let usesWideKernel: Bool = CPUFeatures.hasAVX512

    /// The widest share of C (columns) for which the 8×32 kernel reads a non-transposed A in
    /// place instead of packing it: tiny-preset step 2–6% faster (A/B in one process); no change
    /// beyond the noise on the benchmark's large shapes, which stay packed.
    @usableFromInline static let readAInPlaceMaxColumns = tuning("LIAN_GEMM_INPLACE_A_COLUMNS", 512)

    /// Below this many multiply-adds one thread is faster than waking a second.
    @usableFromInline static let parallelThreshold = 1 << 18

    /// C = alpha · op(A) · op(B) + beta · C, plus `bias` (n values) on every row of C when given:
    /// a linear layer's bias is added as its tiles are written, not in a pass of its own.
    /// `columnSums`, when given, receives the n sums over k of op(B)'s columns (unscaled, added in
    /// order of k — by halves where the product is summed by halves, GEMMHalvesOfK.swift): a linear
    /// layer's bias gradient is the column sums of the dY that its weight gradient Xᵀ·dY packs
    /// anyway, so it is summed from the packed panels instead of in a pass of its own. See the file header for the layout. `threads` defaults to
    /// `Parallelism.threadCount`.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil,
        columnSums: UnsafeMutablePointer<Float>? = nil, epilogue: GEMMEpilogue = .none,
        threads: Int? = nil, kernel: MicroKernelShape = .automatic
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "[sgemm] negative size m=\(m) n=\(n) k=\(k)")
        precondition(ldc >= n, "[sgemm] ldc \(ldc) < n \(n)")
        precondition(lda >= (transA ? m : k), "[sgemm] lda \(lda) too small")
        precondition(ldb >= (transB ? k : n), "[sgemm] ldb \(ldb) too small")
        if n == 0 { return }
        if m == 0 || k == 0 || alpha == 0 {
            // Nothing to multiply: the packing loops that would sum op(B) do not run.
            if let columnSums {
                for j in 0..<n {
                    var sum: Float = 0
                    for p in 0..<k { sum += transB ? b[j * ldb + p] : b[p * ldb + j] }
                    columnSums[j] = sum
                }
            }
            if m == 0 { return }
            scaleRows(c: c, m: m, n: n, ldc: ldc, beta: beta)
            if let bias { for i in 0..<m { for j in 0..<n { c[i * ldc + j] += bias[j] } } }
            epilogue.apply(c: c, ldc: ldc, i0: 0, rows: m, j0: 0, cols: n)
            return
        }
        // Small products skip packing (see SmallGEMM.swift). The size limit depends only on the
        // call (a caller that asks for one thread may pass larger products), so a given call
        // always takes the same path and gives the same bits.
        if columnSums == nil && takesSmallPath(transB: transB, m: m, n: n, k: k, threads: threads, kernel: kernel) {
            SmallGEMM.run(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                          beta: beta, c: c, ldc: ldc, bias: bias)
            epilogue.apply(c: c, ldc: ldc, i0: 0, rows: m, j0: 0, cols: n)
            return
        }
        var threadCount = threads ?? Parallelism.threadCount
        if m * n * k < parallelThreshold { threadCount = 1 }
        let wide = kernel == .rows8cols32 || (kernel == .automatic && usesWideKernel)
        if sumsInHalvesOfK(transA: transA, transB: transB, m: m, n: n, k: k) {
            defer { epilogue.apply(c: c, ldc: ldc, i0: 0, rows: m, j0: 0, cols: n) }
            if wide {
                sgemmInHalvesOfK(MicroKernel8x32.self, threadCount, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                 beta: beta, c: c, ldc: ldc, bias: bias, columnSums: columnSums)
            } else {
                sgemmInHalvesOfK(MicroKernel6x16.self, threadCount, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                 beta: beta, c: c, ldc: ldc, bias: bias, columnSums: columnSums)
            }
            return
        }
        if wide {
            split(MicroKernel8x32.self, threadCount, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, columnSums, epilogue)
        } else {
            split(MicroKernel6x16.self, threadCount, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, columnSums, epilogue)
        }
    }

    /// Whether a product without column sums skips packing (SmallGEMM): the 8×32 kernel's machine,
    /// the automatic kernel, B not transposed, and at most SmallGEMM.maximumWork multiply-adds for
    /// a caller that asks for one thread, else at most `parallelThreshold`.
    @inline(__always)
    static func takesSmallPath(transB: Bool, m: Int, n: Int, k: Int, threads: Int?, kernel: MicroKernelShape) -> Bool {
        kernel == .automatic && usesWideKernel
            && SmallGEMM.suits(transB: transB, m: m, n: n, k: k, limit: threads == 1 ? SmallGEMM.maximumWork : parallelThreshold)
    }

    /// Divides C among threads: by columns when it is at least as wide as tall, by rows otherwise,
    /// in whole micro-tiles. Split by columns, each thread sums its own columns of op(B); split by
    /// rows, every thread packs all of op(B) and the first one sums it. A C of at least
    /// `claimedRowBlocksMinimum` row blocks split by rows is shared out block by block instead
    /// (splitByClaimedRows), one split by columns whose op(A) is short, chunk by chunk
    /// (splitByClaimedColumns), one whose op(A) is larger, chunk by chunk for each k-block
    /// (splitByClaimedColumnsByPhase), and the rest split by columns of a few row blocks, block by
    /// block with op(B) packed together (splitByClaimedRowsSharingPanels).
    @inline(__always)
    static func split<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ threads: Int, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?,
        _ columnSums: UnsafeMutablePointer<Float>?, _ epilogue: GEMMEpilogue = .none
    ) {
        let byColumns = n >= m
        let extent = byColumns ? n : m
        let unit = byColumns ? K.nr : K.mr
        let units = (extent + unit - 1) / unit
        let parts = max(1, min(threads, units))
        if parts == 1 {
            blocked(K.self, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, columnSums, epilogue)
            return
        }
        if byColumns && claimsColumns(m: m, k: k, mr: K.mr) {
            splitByClaimedColumns(K.self, parts, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, columnSums, epilogue)
            return
        }
        if byColumns && claimsColumnsByPhase(K.self, m: m, n: n, k: k) {
            splitByClaimedColumnsByPhase(K.self, parts, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, columnSums, epilogue)
            return
        }
        if byColumns && sharesPanels(m: m, mc: mc) {
            splitByClaimedRowsSharingPanels(K.self, parts, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, columnSums, epilogue)
            return
        }
        if !byColumns && m >= claimedRowBlocksMinimum * mc {
            splitByClaimedRows(K.self, parts, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, columnSums, epilogue)
            return
        }
        let A = SendablePointer(a), B = SendablePointer(b), C = SendablePointer(c)
        let bias = bias.map { SendablePointer($0) }, sums = columnSums.map { SendablePointer($0) }
        parallelFor(parts) { t in
            let start = min(extent, (units * t / parts) * unit)
            let end = min(extent, (units * (t + 1) / parts) * unit)
            guard start < end else { return }
            if byColumns {
                // Columns j of op(B): B[·, j] when not transposed, row j of B when transposed.
                let bStart = transB ? B.base + start * ldb : B.base + start
                blocked(K.self, transA, transB, m, end - start, k, alpha, A.base, lda, bStart, ldb,
                        beta, C.base + start, ldc, bias.map { UnsafePointer($0.base + start) }, sums.map { $0.base + start },
                        epilogue.offset(rows: 0, columns: start), wholeProduct: false)
            } else {
                let aStart = transA ? A.base + start : A.base + start * lda
                blocked(K.self, transA, transB, end - start, n, k, alpha, aStart, lda, B.base, ldb,
                        beta, C.base + start * ldc, ldc, bias.map { UnsafePointer($0.base) }, t == 0 ? sums?.base : nil,
                        epilogue.offset(rows: start, columns: 0), wholeProduct: false)
            }
        }
    }

    /// One thread's share: the three blocking loops around the micro-kernel.
    @inline(__always)
    static func blocked<K: GEMMMicroKernel>(
        _ kernel: K.Type, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?,
        _ columnSums: UnsafeMutablePointer<Float>?, _ epilogue: GEMMEpilogue = .none, wholeProduct: Bool = true
    ) {
        let nr = K.nr
        // A thread's share of a product split in fixed parts never takes tallKc: the whole
        // products split that way (wider than tall, or under claimedRowBlocksMinimum row blocks)
        // do not either.
        let tall = wholeProduct && takesTallKc(K.self, transA: transA, alpha: alpha, m: m, n: n, k: k)
        let (kcMax, mcMax, ncMax) = blockSizes(K.self, m: m, n: n, k: k, tall: tall)
        // When C is wider than one nc block and all of op(A) packs into 2 MiB (a short, wide
        // product such as a language-model head), A is packed once for every column block instead
        // of once per block (packAllOfA), and the column blocks narrow to fit beside it in L2 —
        // unless fewer than two panels would fit there (a head of 640 tokens or more at kc 384):
        // blocks of one panel ran 3–7% slower than the usual blocking (one thread, 640–1,024 rows
        // × 384 × 4096), while 2–13 panels ran 2–7% faster (256–608 rows).
        let mPadded = roundUp(m, K.mr)
        let readsAInPlace = GEMM.readsAInPlace(K.self, transA: transA, alpha: alpha, n: n)
        let besideA = !readsAInPlace && n > ncMax && mPadded * k <= (1 << 19)
            && columnsBesideResidentA(K.self, kc: kcMax, mPadded: mPadded) >= 2 * K.nr
        let wide = !besideA && isWide(n: n, ncUsual: ncMax, mPadded: mPadded, k: k, readsAInPlace: readsAInPlace)
        let residentA = besideA || wide
        let ncBlock = besideA ? min(ncMax, columnsBesideResidentA(K.self, kc: kcMax, mPadded: mPadded))
            : wide ? wideColumnBlock(n: n, nr: K.nr) : ncMax
        withPackingBuffers(a: readsAInPlace ? 1 : residentA ? mPadded * k : mcMax * kcMax, b: ncBlock * kcMax) { packedA, packedB in
            // A beta other than 0 or 1 is applied once up front; then the first k-block either stores
            // (beta == 0) or accumulates, and every later k-block accumulates.
            if beta != 0 && beta != 1 { scaleRows(c: c, m: m, n: n, ldc: ldc, beta: beta) }
            if residentA {
                packAllOfA(K.self, transA: transA, a: a, lda: lda, m: m, k: k, alpha: alpha, into: packedA)
            }

            var j0 = 0
            while j0 < n {
                let ncCur = min(ncBlock, n - j0)
                var p0 = 0
                while p0 < k {
                    let kcCur = min(kcMax, k - p0)
                    packB(transB: transB, b: b, ldb: ldb, p0: p0, kc: kcCur, j0: j0, nc: ncCur, nr: nr, into: packedB)
                    if let columnSums {
                        sumPackedColumns(packedB, kc: kcCur, nc: ncCur, nr: nr, into: columnSums + j0, first: p0 == 0)
                    }
                    let accumulate = p0 > 0 || beta != 0
                    let blockBias = p0 == 0 ? bias : nil     // added once, with the first k-block
                    var i0 = 0
                    while i0 < m {
                        let mcCur = min(mcMax, m - i0)
                        multiplyRowBlock(K.self, transA: transA, a: a, lda: lda, alpha: alpha, i0: i0, mc: mcCur, p0: p0, kc: kcCur,
                                         nc: ncCur, readsAInPlace: readsAInPlace,
                                         aBlock: residentA ? packedA + p0 * mPadded + i0 * kcCur : packedA, packsA: !residentA,
                                         packedB: packedB, c: c + j0, ldc: ldc, accumulate: accumulate, bias: blockBias.map { $0 + j0 },
                                         aOuter: wide)
                        if p0 + kcCur == k { epilogue.apply(c: c, ldc: ldc, i0: i0, rows: mcCur, j0: j0, cols: ncCur) }
                        i0 += mcCur
                    }
                    p0 += kcCur
                }
                j0 += ncCur
            }
        }
    }

    /// The block sizes for a product of m × n × k: kc (tallKc where `tall`), and mc and nc rounded
    /// to whole tiles, each shrunk to the problem.
    @inline(__always)
    static func blockSizes<K: GEMMMicroKernel>(_ kernel: K.Type, m: Int, n: Int, k: Int, tall: Bool = false) -> (kc: Int, mc: Int, nc: Int) {
        (min(tall ? tallKc : kc, k), min((mc / K.mr) * K.mr, roundUp(m, K.mr)), min((nc / K.nr) * K.nr, roundUp(n, K.nr)))
    }

    /// The floats (1 MiB, half of L2) that one k-block of a resident packed op(A) and the block of
    /// op(B) it multiplies should fit in together, so that neither pushes the other out of L2.
    static let residentABudget = 1 << 18

    /// The widest block of op(B) (whole NR panels, at least one) that fits in `residentABudget`
    /// beside a k-block of a resident packed op(A) of mPadded rows: 416 columns for a 256-token
    /// language-model head at kc = 384, whose 1024-column blocks (1.5 MiB beside A's 384 KiB)
    /// ran 2–8% slower.
    @inline(__always)
    static func columnsBesideResidentA<K: GEMMMicroKernel>(_ kernel: K.Type, kc: Int, mPadded: Int) -> Int {
        max(K.nr, (residentABudget / kc - mPadded) / K.nr * K.nr)
    }

    /// Whether a non-transposed A is read where it lies in a product (or a thread's share of one)
    /// n columns wide: for a narrow C (n ≤ 512, such as a layer's input gradient dY·W) packing A
    /// would be repaid over n / NR column panels only, and its rows already run along k
    /// (runBlockUnpackedA). The 8×32 kernel only, and alpha 1 (packing is where alpha is
    /// applied). Same products in the same order, so the same bits as the packed path.
    @inline(__always)
    static func readsAInPlace<K: GEMMMicroKernel>(_ kernel: K.Type, transA: Bool, alpha: Float, n: Int) -> Bool {
        K.self == MicroKernel8x32.self && !transA && alpha == 1 && n <= readAInPlaceMaxColumns
    }

    /// Packs all of op(A) (m × k), k-block by k-block and row block by row block: block (p0, i0)
    /// starts at p0·mPadded + i0·kc, mPadded being m rounded up to whole tiles.
    @inline(__always)
    static func packAllOfA<K: GEMMMicroKernel>(_ kernel: K.Type, transA: Bool, a: UnsafePointer<Float>, lda: Int,
                                               m: Int, k: Int, alpha: Float, into packedA: UnsafeMutablePointer<Float>) {
        let (kcMax, mcMax, _) = blockSizes(K.self, m: m, n: 0, k: k)
        let mPadded = roundUp(m, K.mr)
        var p0 = 0
        while p0 < k {
            let kcCur = min(kcMax, k - p0)
            var i0 = 0
            while i0 < m {
                let mcCur = min(mcMax, m - i0)
                packA(transA: transA, a: a, lda: lda, i0: i0, mc: mcCur, p0: p0, kc: kcCur,
                      alpha: alpha, mr: K.mr, into: packedA + p0 * mPadded + i0 * kcCur)
                i0 += mcCur
            }
            p0 += kcCur
        }
    }

    /// Runs `body` with packing buffers of `a` and `b` floats from the pool: a large malloc is an
    /// mmap, and its pages would be faulted in and zeroed by the kernel on every call.
    @inline(__always)
    static func withPackingBuffers(a: Int, b: Int,
                                   _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let bufferA = BufferPool.shared.take(a), bufferB = BufferPool.shared.take(b)
        defer {
            BufferPool.shared.give(bufferA.pointer, capacity: bufferA.capacity)
            BufferPool.shared.give(bufferB.pointer, capacity: bufferB.capacity)
        }
        body(bufferA.pointer, bufferB.pointer)
    }

    /// Rows i0..<i0+mc of C (nc columns from `c`) against a packed kc × nc block of B (k steps
    /// p0..<p0+kc): the block's rows of op(A) are packed into `aBlock` (when `packsA`; else they
    /// are there already) or read in place, and the micro-kernel runs over its tiles. `bias`
    /// (nc values, or nil) is added as the tiles are written.
    @inline(__always)
    static func multiplyRowBlock<K: GEMMMicroKernel>(
        _ kernel: K.Type, transA: Bool, a: UnsafePointer<Float>, lda: Int, alpha: Float, i0: Int, mc: Int, p0: Int, kc: Int,
        nc: Int, readsAInPlace: Bool, aBlock: UnsafeMutablePointer<Float>, packsA: Bool, packedB: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?, aOuter: Bool = false
    ) {
        if readsAInPlace {
            MicroKernel8x32.runBlockUnpackedA(kc: kc, a: a + i0 * lda + p0, lda: lda, m: mc, b: packedB,
                                              n: nc, c: c + i0 * ldc, ldc: ldc, accumulate: accumulate, bias: bias)
            return
        }
        if packsA {
            packA(transA: transA, a: a, lda: lda, i0: i0, mc: mc, p0: p0, kc: kc, alpha: alpha, mr: K.mr, into: aBlock)
        }
        multiplyPackedRowBlock(K.self, i0: i0, mc: mc, kc: kc, nc: nc, aBlock: aBlock, packedB: packedB, c: c, ldc: ldc,
                               accumulate: accumulate, bias: bias, aOuter: aOuter)
    }

    /// Rows i0..<i0+mc of C (nc columns from `c`) += a packed mc × kc block of op(A) (`aBlock`) ·
    /// a packed kc × nc block of B: the micro-kernel over the block's tiles.
    @inline(__always)
    static func multiplyPackedRowBlock<K: GEMMMicroKernel>(
        _ kernel: K.Type, i0: Int, mc: Int, kc: Int, nc: Int, aBlock: UnsafePointer<Float>, packedB: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?, aOuter: Bool
    ) {
        let mr = K.mr, nr = K.nr
        // B-outer (the usual order): each B micro-panel stays in L1 while the block's A panels
        // stream past it. A-outer: each A micro-panel stays in L1 while the block's B panels
        // stream past it from L2.
        let tiles = (mc + mr - 1) / mr, panels = (nc + nr - 1) / nr
        for outer in 0..<(aOuter ? tiles : panels) {
            for inner in 0..<(aOuter ? panels : tiles) {
                let ir = (aOuter ? outer : inner) * mr, jr = (aOuter ? inner : outer) * nr
                K.run(kc: kc, a: aBlock + ir * kc, b: packedB + jr * kc, c: c + (i0 + ir) * ldc + jr, ldc: ldc,
                      rows: min(mr, mc - ir), cols: min(nr, nc - jr), accumulate: accumulate, bias: bias.map { $0 + jr })
            }
        }
    }

    @inline(__always) static func roundUp(_ x: Int, _ multiple: Int) -> Int {
        (x + multiple - 1) / multiple * multiple
    }

    static func scaleRows(c: UnsafeMutablePointer<Float>, m: Int, n: Int, ldc: Int, beta: Float) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}
