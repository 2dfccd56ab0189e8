import ArgumentParser
import Foundation
import LianKernels

/// `lian bench elementwise`: the memory-bound kernels (GELU, softmax, LayerNorm, forward and
/// backward) in GB/s of compulsory traffic, against the streaming bandwidth (a triad). Each
/// kernel is timed alternately with the triad (as `bench gemm` alternates Lian and OpenBLAS), and
/// its fraction is of the triad's best in those same seconds: on a shared machine the bandwidth
/// drifts by half between runs, and a triad timed once, before the kernels, credited the drift to
/// them (64–129% for one kernel in consecutive runs). Arrays are 128 MiB each, beyond the caches.
struct BenchElementwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elementwise", abstract: "GELU, softmax and LayerNorm against the memory bandwidth.")

    @OptionGroup var options: BenchOptions

    @Option(help: "Row width for softmax and LayerNorm.")
    var width: Int = 768

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    struct Measurement: Encodable {
        let kernel: String
        let elements: Int
        let bytesPerElement: Int
        let milliseconds: Double
        let gigabytesPerSecond: Double
        let fractionOfBandwidth: Double
        let triadGBs: Double
    }

    func run() throws {
        guard width > 0 else { throw ValidationError("--width must be positive") }
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads must be positive") }
            Parallelism.threadCount = threads
        }
        let t = Parallelism.threadCount
        let triad = MachinePeak.Triad()
        defer { triad.release() }
        let rows = (32 << 20) / width, n = rows * width
        let x = allocateFloats(n), dy = allocateFloats(n), y = allocateFloats(n), dx = allocateFloats(n)
        let gamma = allocateFloats(width), beta = allocateFloats(width), dgamma = allocateFloats(width), dbeta = allocateFloats(width)
        let mean = allocateFloats(rows), rstd = allocateFloats(rows)
        defer { for p in [x, dy, y, dx, gamma, beta, dgamma, dbeta, mean, rstd] { deallocateFloats(p) } }
        var rng = SeededRandom(seed: 1)
        for i in 0..<n { x[i] = 4 * rng.nextUniform() - 2; dy[i] = rng.nextUniform() - 0.5 }
        for i in 0..<width { gamma[i] = 1 + 0.1 * rng.nextUniform(); beta[i] = 0.1 * rng.nextUniform() }

        // (name, compulsory bytes per element, body)
        let kernels: [(String, Int, () -> Void)] = [
            ("gelu forward", 8, { Activations.geluForward(x, y, n) }),
            ("gelu backward", 12, { Activations.geluBackward(x, dy, dx, n) }),
            ("softmax forward", 8, { Softmax.forward(x, y, rows: rows, cols: width) }),
            ("softmax backward", 12, { Softmax.backward(y, dy, dx, rows: rows, cols: width) }),
            ("layernorm forward", 8, {
                Normalization.layerNormForward(x, gamma: gamma, beta: beta, y, mean: mean, rstd: rstd, rows: rows, cols: width, eps: 1e-5)
            }),
            ("layernorm backward", 12, {
                Normalization.layerNormBackward(x, gamma: gamma, mean: mean, rstd: rstd, dy, dx, dgamma: dgamma, dbeta: dbeta,
                                                rows: rows, cols: width)
            }),
        ]
        var report = BenchReport<Measurement>(title: "elementwise")
        for (name, bytes, body) in kernels {
            let (time, triadTime) = Stopwatch.bestTimes(seconds: options.seconds, body) { triad.run(threads: t) }
            let gbs = Double(n * bytes) / time / 1e9, bandwidth = triad.gigabytesPerSecond(triadTime)
            report.rows.append(Measurement(kernel: name, elements: n, bytesPerElement: bytes, milliseconds: time * 1e3,
                                           gigabytesPerSecond: gbs, fractionOfBandwidth: gbs / bandwidth, triadGBs: bandwidth))
        }
        let bandwidth = report.rows.map(\.triadGBs).max() ?? 0
        if options.json {
            report.printJSON(extra: ["triadGBs": fixed(bandwidth, 2), "threads": String(t)])
            return
        }
        print("lian bench elementwise — \(BenchReport<Measurement>.machineLine), \(t) thread\(t == 1 ? "" : "s")")
        print("streaming bandwidth (triad a = b + s·c, 128 MiB arrays): \(fixed(bandwidth, 1)) GB/s at best; each kernel against the triad timed alternately with it")
        print("\(n) elements (\(rows) rows × \(width)); GB/s counts each element read and written once\n")
        let cells = report.rows.map {
            [$0.kernel, fixed($0.milliseconds, 2), fixed($0.gigabytesPerSecond, 1), fixed($0.triadGBs, 1), fixed(100 * $0.fractionOfBandwidth, 0) + "%"]
        }
        for line in tableLines(header: ["kernel", "ms", "GB/s", "triad GB/s", "of bandwidth"], rows: cells) { print(line) }
    }
}
