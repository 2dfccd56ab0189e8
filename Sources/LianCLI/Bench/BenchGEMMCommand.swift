import ArgumentParser
import Foundation
import LianKernels

/// `lian bench gemm`: GFLOP/s of Lian's SGEMM on transformer shapes, in the three transposition
/// cases backprop uses, with 1 and 2 threads, against the machine's FMA peak and, where installed,
/// OpenBLAS in the same run.
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "SGEMM GFLOP/s against the FMA peak and OpenBLAS.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Shapes as MxKxN, comma-separated (default: the transformer shapes).")
    var shapes: String = "4096x768x768,4096x768x3072,4096x3072x768,4096x256x768,256x768x50257"

    @Option(help: "Thread counts to measure, comma-separated.")
    var threads: String = "1,2"

    struct Measurement: Encodable {
        let m: Int, k: Int, n: Int
        let transposition: String
        let threads: Int
        let lianGFLOPs: Double
        let openBLASGFLOPs: Double?
        let lianOverOpenBLAS: Double?
        let fractionOfPeak: Double
        let maxRelativeDifference: Double?
    }

    func run() throws {
        let shapeList = try shapes.split(separator: ",").map { text -> (Int, Int, Int) in
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--shapes: '\(text)' is not MxKxN with positive sizes (e.g. 4096x768x768)")
            }
            return (parts[0], parts[1], parts[2])
        }
        let threadList = try threads.split(separator: ",").map { text -> Int in
            guard let n = Int(text), n > 0 else { throw ValidationError("--threads: '\(text)' is not a positive count") }
            return n
        }
        let coreType = OpenBLAS.chooseCoreType()
        let blas = OpenBLAS.load()
        var peaks: [Int: Double] = [:]
        for t in threadList { peaks[t] = MachinePeak.fmaGFLOPs(threads: t, seconds: 0.3) }

        var report = BenchReport<Measurement>(title: "gemm")
        let cases: [(String, Bool, Bool)] = [("A·B", false, false), ("A·Bᵀ", false, true), ("Aᵀ·B", true, false)]
        for (m, k, n) in shapeList {
            var rng = SeededRandom(seed: 1)
            let a = allocateFloats(m * k), b = allocateFloats(k * n)
            let c = allocateFloats(m * n), cRef = allocateFloats(m * n)
            defer { for p in [a, b, c, cRef] { deallocateFloats(p) } }
            for i in 0..<(m * k) { a[i] = rng.nextUniform() - 0.5 }
            for i in 0..<(k * n) { b[i] = rng.nextUniform() - 0.5 }
            for (name, transA, transB) in cases {
                let lda = transA ? m : k, ldb = transB ? k : n
                for t in threadList {
                    let flops = 2.0 * Double(m) * Double(n) * Double(k)
                    let lian = {
                        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda,
                                   b: b, ldb: ldb, c: c, ldc: n, threads: t)
                    }
                    var lianTime: Double
                    var blasGF: Double?
                    var diff: Double?
                    if let blas {
                        blas.setThreads(t)
                        let (lt, bt) = Stopwatch.bestTimes(seconds: options.seconds, lian) {
                            blas.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda,
                                       b: b, ldb: ldb, c: cRef, ldc: n)
                        }
                        lianTime = lt
                        blasGF = flops / bt / 1e9
                        var worst = 0.0
                        for i in 0..<(m * n) {
                            let d = Double(abs(c[i] - cRef[i])) / (Double(abs(cRef[i])) + 1)
                            worst = max(worst, d)
                        }
                        diff = worst
                    } else {
                        lianTime = Stopwatch.bestTime(seconds: options.seconds, lian)
                    }
                    let gf = flops / lianTime / 1e9
                    report.rows.append(Measurement(
                        m: m, k: k, n: n, transposition: name, threads: t, lianGFLOPs: gf,
                        openBLASGFLOPs: blasGF, lianOverOpenBLAS: blasGF.map { gf / $0 },
                        fractionOfPeak: gf / peaks[t]!, maxRelativeDifference: diff))
                    if !options.json {
                        let r = report.rows.last!
                        FileHandle.standardError.write(Data("  \(m)x\(k)x\(n) \(name) \(t)t: \(fixed(gf)) GFLOP/s\(r.lianOverOpenBLAS.map { ", \(fixed($0, 2))× OpenBLAS" } ?? "")\n".utf8))
                    }
                }
            }
        }
        let info = ["openblas": blas.map { "\($0.path), kernels \(coreType)" } ?? "not installed"]
            .merging(peaks.map { ("fmaPeakGFLOPs_\($0.key)t", fixed($0.value)) }, uniquingKeysWith: { a, _ in a })
        if options.json { report.printJSON(extra: info); return }
        print("lian bench gemm — \(BenchReport<Measurement>.machineLine)")
        for t in threadList.sorted() { print("FMA peak, \(t) thread\(t == 1 ? "" : "s"): \(fixed(peaks[t]!)) GFLOP/s") }
        print("OpenBLAS: \(blas.map { "\($0.path), kernels \(coreType)" } ?? "not installed (apt-get install libopenblas0 to compare)")")
        print("")
        let rows = report.rows.map { r in
            ["\(r.m)×\(r.k)×\(r.n)", r.transposition, "\(r.threads)", fixed(r.lianGFLOPs),
             r.openBLASGFLOPs.map { fixed($0) } ?? "—", r.lianOverOpenBLAS.map { fixed($0, 2) + "×" } ?? "—",
             fixed(100 * r.fractionOfPeak, 0) + "%"]
        }
        for line in tableLines(header: ["M×K×N", "case", "thr", "Lian GF/s", "OpenBLAS GF/s", "Lian/BLAS", "of peak"], rows: rows) {
            print(line)
        }
    }
}
