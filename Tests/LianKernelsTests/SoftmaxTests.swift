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
}
