import LianKernels
import LianTestSupport
import Testing

/// LayerNorm forward and backward written with streaming stores (StreamingStores) give the bits
/// of the plain loops: widths of one and many vectors, 150 rows split between threads, beta and
/// no beta; a width that is not whole vectors, or a y that does not start on 64 bytes, takes the
/// plain loop even when streaming is asked for.
@Suite struct StreamingStoresTests {
    /// Fills a 64-byte-aligned buffer (allocateFloats) from `values`, starting `offset` floats in.
    func aligned(_ values: [Float], offset: Int = 0) -> UnsafeMutablePointer<Float> {
        let p = allocateFloats(values.count + offset)
        p.update(repeating: .nan, count: offset)
        (p + offset).update(from: values, count: values.count)
        return p
    }

    @Test(arguments: [16, 48, 768, 37])
    func layerNormStreamedMatchesPlain(cols: Int) {
        let rows = 150, n = rows * cols
        let x = aligned(randomValues(n, seed: UInt64(cols), low: -3, high: 3))
        let dy = aligned(randomValues(n, seed: UInt64(cols) + 1))
        let gamma = aligned(randomValues(cols, seed: 5, low: 0.5, high: 1.5)), beta = aligned(randomValues(cols, seed: 6))
        let mean = allocateFloats(rows), rstd = allocateFloats(rows)
        let plain = allocateFloats(n), dgPlain = allocateFloats(cols), dbPlain = allocateFloats(cols)
        let dg = allocateFloats(cols), db = allocateFloats(cols)
        defer { for p in [x, dy, gamma, beta, mean, rstd, plain, dgPlain, dbPlain, dg, db] { deallocateFloats(p) } }

        for withBeta in [true, false] {
            for offset in [0, 1] {
                let streamed = aligned([Float](repeating: .nan, count: n), offset: offset)
                defer { deallocateFloats(streamed) }
                let out = streamed + offset
                Normalization.layerNormForward(x, gamma: gamma, beta: withBeta ? beta : nil, plain, mean: mean, rstd: rstd,
                                               rows: rows, cols: cols, eps: 1e-5, streaming: false)
                Normalization.layerNormForward(x, gamma: gamma, beta: withBeta ? beta : nil, out, mean: mean, rstd: rstd,
                                               rows: rows, cols: cols, eps: 1e-5, streaming: true)
                #expect(Array(UnsafeBufferPointer(start: out, count: n)) == Array(UnsafeBufferPointer(start: plain, count: n)),
                        "forward: cols \(cols), beta \(withBeta), offset \(offset)")

                Normalization.layerNormBackward(x, gamma: gamma, mean: mean, rstd: rstd, dy, plain, dgamma: dgPlain, dbeta: dbPlain,
                                                rows: rows, cols: cols, streaming: false)
                Normalization.layerNormBackward(x, gamma: gamma, mean: mean, rstd: rstd, dy, out, dgamma: dg, dbeta: db,
                                                rows: rows, cols: cols, streaming: true)
                #expect(Array(UnsafeBufferPointer(start: out, count: n)) == Array(UnsafeBufferPointer(start: plain, count: n)),
                        "backward dx: cols \(cols), offset \(offset)")
                #expect(Array(UnsafeBufferPointer(start: dg, count: cols)) == Array(UnsafeBufferPointer(start: dgPlain, count: cols)))
                #expect(Array(UnsafeBufferPointer(start: db, count: cols)) == Array(UnsafeBufferPointer(start: dbPlain, count: cols)))
            }
        }
    }
}
