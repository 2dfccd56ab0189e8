import LianKernels

/// Measures what the machine can do at best, so kernels can be reported as a fraction of it.
enum MachinePeak {
    /// Peak fp32 GFLOP/s: each thread runs 16 independent chains of vector FMAs (enough to cover
    /// the FMA latency on two ports), with no memory traffic.
    static func fmaGFLOPs(threads: Int, seconds: Double) -> Double {
        let iterations = 2_000_000
        let perThread = Double(iterations) * 16 * 16 * 2   // iterations × chains × lanes × 2 flops
        let time = Stopwatch.bestTime(seconds: seconds) {
            let sink = UnsafeMutablePointer<Float>.allocate(capacity: threads)
            let out = SendablePointer(sink)
            parallelFor(threads) { t in
                out.base[t] = fmaChains(iterations: iterations, seed: Float(t) + 1)
            }
            sink.deallocate()
        }
        return perThread * Double(threads) / time / 1e9
    }

    @inline(never)
    static func fmaChains(iterations: Int, seed: Float) -> Float {
        let m = SIMD16<Float>(repeating: 0.999_999), d = SIMD16<Float>(repeating: 1e-7 * seed)
        var c0 = SIMD16<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0
        var c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0
        for _ in 0..<iterations {
            c0 = d.addingProduct(c0, m); c1 = d.addingProduct(c1, m); c2 = d.addingProduct(c2, m)
            c3 = d.addingProduct(c3, m); c4 = d.addingProduct(c4, m); c5 = d.addingProduct(c5, m)
            c6 = d.addingProduct(c6, m); c7 = d.addingProduct(c7, m); c8 = d.addingProduct(c8, m)
            c9 = d.addingProduct(c9, m); c10 = d.addingProduct(c10, m); c11 = d.addingProduct(c11, m)
            c12 = d.addingProduct(c12, m); c13 = d.addingProduct(c13, m); c14 = d.addingProduct(c14, m)
            c15 = d.addingProduct(c15, m)
        }
        let s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15))
        return s.sum()
    }

    /// Memory bandwidth in GB/s: a streaming triad a = b + s·c over arrays far larger than the
    /// caches, counting 3 × 4 bytes per element (two reads, one write).
    static func triadGBs(threads: Int, seconds: Double) -> Double {
        let triad = Triad()
        defer { triad.release() }
        return triad.gigabytesPerSecond(Stopwatch.bestTime(seconds: seconds) { triad.run(threads: threads) })
    }

    /// The triad's arrays (128 MiB each) and one pass over them, so that a benchmark can time it
    /// alternately with the kernels it compares against it.
    struct Triad {
        static let count = 32 << 20
        let a = allocateFloats(count), b = allocateFloats(count), c = allocateFloats(count)

        init() {
            b.update(repeating: 1, count: Self.count); c.update(repeating: 2, count: Self.count)
            a.update(repeating: 0, count: Self.count)
        }

        func release() { for p in [a, b, c] { deallocateFloats(p) } }

        /// The GB/s of a pass that took `seconds`.
        func gigabytesPerSecond(_ seconds: Double) -> Double { Double(Self.count) * 12 / seconds / 1e9 }

        func run(threads: Int) {
            let count = Self.count
            let A = SendablePointer(a), B = SendablePointer(b), C = SendablePointer(c)
            parallelFor(threads) { t in
                let start = count * t / threads, end = count * (t + 1) / threads
                var i = start
                while i + 16 <= end {
                    let v = UnsafeRawPointer(B.base + i).load(as: SIMD16<Float>.self)
                        .addingProduct(3, UnsafeRawPointer(C.base + i).load(as: SIMD16<Float>.self))
                    UnsafeMutableRawPointer(A.base + i).storeBytes(of: v, as: SIMD16<Float>.self)
                    i += 16
                }
            }
        }
    }
}
