@testable import LianKernels
import LianTestSupport
import Testing

/// The small-product path skips a causal attention block's zeros by whole tiles
/// (SmallGEMM.CausalSkip): the skipped terms are products with zero, so the results must be
/// the same bits as the full products. A block of rows r0..<r0 + n over `columns` positions,
/// with partial row and column tiles.
@Suite struct CausalSkipTests {
    /// A block of probabilities: row i (position r0 + i) is zero past column r0 + i.
    func maskedBlock(rows n: Int, columns: Int, r0: Int, seed: UInt64) -> [Float] {
        var p = randomValues(n * columns, seed: seed)
        for i in 0..<n { for j in 0..<columns where j > r0 + i { p[i * columns + j] = 0 } }
        return p
    }

    func run(transA: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float,
             skip: SmallGEMM.CausalSkip?) -> [Float] {
        var c = randomValues(m * n, seed: 99)
        c.withUnsafeMutableBufferPointer { cp in
            SmallGEMM.run(transA: transA, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                          beta: beta, c: cp.baseAddress!, ldc: n, bias: nil, skipping: skip)
        }
        return c
    }

    @Test(arguments: [(0, 61, 61), (64, 37, 101), (32, 64, 96)])
    func skippingZerosGivesTheSameBits(r0: Int, rows: Int, columns: Int) {
        let d = 24
        let p = maskedBlock(rows: rows, columns: columns, r0: r0, seed: 1)
        let v = randomValues(columns * d, seed: 2), o = randomValues(rows * d, seed: 3)
        // P·V (k = columns, zeros past each row's position).
        #expect(run(transA: false, m: rows, n: d, k: columns, a: p, lda: columns, b: v, ldb: d, beta: 0, skip: .kPastRow(offset: r0))
                == run(transA: false, m: rows, n: d, k: columns, a: p, lda: columns, b: v, ldb: d, beta: 0, skip: nil))
        // Pᵀ·dO accumulated (k = the block's rows, zeros before each column's position).
        #expect(run(transA: true, m: columns, n: d, k: rows, a: p, lda: columns, b: o, ldb: d, beta: 1, skip: .kBeforeRow(offset: r0))
                == run(transA: true, m: columns, n: d, k: rows, a: p, lda: columns, b: o, ldb: d, beta: 1, skip: nil))
        // Q·Kᵀ: the columns every row sees are computed; the skipped tiles lie past them.
        let q = randomValues(rows * d, seed: 4), kT = randomValues(d * columns, seed: 5)
        let full = run(transA: false, m: rows, n: columns, k: d, a: q, lda: d, b: kT, ldb: columns, beta: 0, skip: nil)
        let skipped = run(transA: false, m: rows, n: columns, k: d, a: q, lda: d, b: kT, ldb: columns, beta: 0,
                          skip: .columnsPastRow(offset: r0))
        for i in 0..<rows {
            let visible = min(columns, r0 + i + 1)
            #expect(Array(full[(i * columns)..<(i * columns + visible)]) == Array(skipped[(i * columns)..<(i * columns + visible)]),
                    "row \(i) of a block from \(r0)")
        }
    }
}
