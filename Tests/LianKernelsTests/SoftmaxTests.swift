import LianKernels
import LianTestSupport
import Testing

/// The masked (causal) softmax rows that attention uses, against the plain row kernel followed by
/// zero-filling: every visible length in rows whose width is and is not a multiple of 16.
@Suite struct SoftmaxTests {
    @Test(arguments: [16, 48, 64, 37])
    func maskedRowsMatchTheRowKernel(width: Int) {
        for visible in 1...width {
            let x = randomValues(width, seed: UInt64(visible)).map { $0 * 8 }
            var masked = x, plain = x
            masked.withUnsafeMutableBufferPointer { Softmax.maskedRow($0.baseAddress!, visible: visible, width: width) }
            plain.withUnsafeMutableBufferPointer { p in
                Softmax.row(p.baseAddress!, p.baseAddress!, visible)
                for j in visible..<width { p[j] = 0 }
            }
            let (ok, worst) = compare(masked, plain, atol: 1e-7, rtol: 1e-6)
            #expect(ok, "width \(width) visible \(visible): \(worst)")
            #expect(masked[visible...].allSatisfy { $0 == 0 }, "width \(width) visible \(visible): nonzero past the mask")

            // Backward, in place on dy, from the masked probabilities.
            let dy = randomValues(width, seed: UInt64(1000 + visible))
            var fast = dy, slow = dy
            masked.withUnsafeBufferPointer { y in
                fast.withUnsafeMutableBufferPointer { Softmax.maskedRowBackward(y.baseAddress!, $0.baseAddress!, visible: visible, width: width) }
                slow.withUnsafeMutableBufferPointer { d in
                    Softmax.rowBackward(y.baseAddress!, d.baseAddress!, d.baseAddress!, visible)
                    for j in visible..<width { d[j] = 0 }
                }
            }
            let (okB, worstB) = compare(fast, slow, atol: 1e-7, rtol: 1e-6)
            #expect(okB, "backward width \(width) visible \(visible): \(worstB)")
            #expect(fast[visible...].allSatisfy { $0 == 0 }, "backward width \(width) visible \(visible): nonzero past the mask")
        }
    }

    /// The streamed forward (scratch row, streaming stores, next row prefetched) gives the bits of
    /// the plain one: row widths below, at and past a vector, y aligned and not (the scalar head
    /// and tail), out of place and in place; 150 rows of 768 or 1001 are split between threads.
    @Test(arguments: [1, 15, 16, 37, 768, 1001])
    func streamedForwardMatchesPlain(cols: Int) {
        let rows = 150
        let x = randomValues(rows * cols, seed: UInt64(cols), low: -30, high: 30)
        var plain = [Float](repeating: 0, count: rows * cols)
        x.withUnsafeBufferPointer { xp in
            plain.withUnsafeMutableBufferPointer { Softmax.forward(xp.baseAddress!, $0.baseAddress!, rows: rows, cols: cols, streaming: false) }
        }
        for offset in [0, 1, 5] {
            var out = [Float](repeating: .nan, count: rows * cols + offset)
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer {
                    Softmax.forward(xp.baseAddress!, $0.baseAddress! + offset, rows: rows, cols: cols, streaming: true)
                }
            }
            #expect(Array(out[offset...]) == plain, "cols \(cols), offset \(offset)")
        }
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer {
            Softmax.forward($0.baseAddress!, $0.baseAddress!, rows: rows, cols: cols, streaming: true)
        }
        #expect(inPlace == plain, "cols \(cols), in place")
        let sums = (0..<rows).map { r in plain[(r * cols)..<((r + 1) * cols)].reduce(0, +) }
        #expect(sums.allSatisfy { abs($0 - 1) < 1e-5 }, "cols \(cols): rows do not sum to 1")
    }
}
