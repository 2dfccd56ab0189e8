import ArgumentParser
import Foundation
import LianKernels
import LianNN
import LianOptim
import LianTensor

/// `lian bench train-step`: forward + backward + clipping + AdamW on random tokens for a GPT-2
/// preset, in tokens/s, ms/step, achieved GFLOP/s and peak memory; with PyTorch measured in the
/// same run by Scripts/bench/torch_train_step.py when python3 and torch are installed.
struct BenchTrainStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step", abstract: "Training-step speed and memory for a GPT-2 preset, against PyTorch.")

    @OptionGroup var options: BenchOptions

    @Option(help: "tiny, small or gpt2-124m.")
    var preset: String = "tiny"

    @Option(help: "Steps to time after two warm-up steps.")
    var steps: Int = 10

    @Option(help: "Rounds: PyTorch and Lian run alternately this many times and the best round of each counts, so that both see the same machine.")
    var rounds: Int = 3

    @Option(help: "Compare with PyTorch: auto (when importable), always or never.")
    var torch: String = "auto"

    @Option(help: "The PyTorch peer script.")
    var torchScript: String = "Scripts/bench/torch_train_step.py"

    @Flag(help: "After the rounds, time Lian's steps kernel by kernel (products by shape) and print where a step goes (with the table, not --json).")
    var profile = false

    struct Measurement: Encodable {
        let implementation: String
        let preset: String
        let tokensPerSecond: Double
        let millisecondsPerStep: Double
        let gflops: Double
        let peakMemoryMB: Double
        let parameters: Int
        var finalLoss: Double
    }

    func run() throws {
        guard let p = TrainStepPreset.named(preset) else {
            throw ValidationError("--preset '\(preset)' is unknown; choose one of \(TrainStepPreset.all.map(\.name).joined(separator: ", "))")
        }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard ["auto", "always", "never"].contains(torch) else { throw ValidationError("--torch must be auto, always or never") }

        // PyTorch in its own process (so neither side's memory counts for the other), alternating
        // with Lian; on a shared machine the speed drifts, and the best round of each is the
        // least disturbed.
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
        var report = BenchReport<Measurement>(title: "train-step")
        let lian = try LianTrainStep(preset: p)
        var bestLian: Measurement?, bestTorch: Measurement?
        var torchAvailable = torch != "never"
        for _ in 0..<rounds {
            if torchAvailable {
                if let peer = try runTorch(p) {
                    if bestTorch == nil || peer.tokensPerSecond > bestTorch!.tokensPerSecond { bestTorch = peer }
                } else if torch == "always" {
                    throw ValidationError("PyTorch could not be run (python3 with torch, and \(torchScript) from the package root, are needed)")
                } else {
                    torchAvailable = false
                }
            }
            var mine = lian.measure(steps: steps)
            // The loss shown is the first round's, after as many steps as PyTorch's fresh process
            // takes each round: Lian's model trains on through the rounds, and a later best round
            // showed the loss of a model trained for twice as many steps.
            if let first = bestLian?.finalLoss { mine.finalLoss = first }
            if bestLian == nil || mine.tokensPerSecond > bestLian!.tokensPerSecond { bestLian = mine }
        }
        report.rows.append(bestLian!)
        if let bestTorch { report.rows.append(bestTorch) }

        if options.json { report.printJSON(extra: ["threads": String(Parallelism.threadCount)]); return }
        print("lian bench train-step --preset \(p.name) — \(BenchReport<Measurement>.machineLine), \(Parallelism.threadCount) threads")
        print("GPT-2: vocab \(p.config.vocabSize), \(p.config.layers) layers, \(p.config.heads) heads, width \(p.config.width), context \(p.context), batch \(p.batch); AdamW, clip 1.0, fp32\n")
        let cells = report.rows.map { r in
            [r.implementation, fixed(r.tokensPerSecond, 0), fixed(r.millisecondsPerStep, 1), fixed(r.gflops, 1),
             fixed(r.peakMemoryMB, 0), fixed(r.finalLoss, 3)]
        }
        for line in tableLines(header: ["", "tokens/s", "ms/step", "GFLOP/s", "peak MB", "loss"], rows: cells) { print(line) }
        if report.rows.count == 2 {
            let ratio = report.rows[0].tokensPerSecond / report.rows[1].tokensPerSecond
            print("\nLian / PyTorch: \(fixed(ratio, 2))× tokens/s, \(fixed(report.rows[0].peakMemoryMB / report.rows[1].peakMemoryMB, 2))× peak memory")
        }
        if profile { printProfile(lian) }
    }

    /// Runs `steps` more steps through a timing kernel backend and prints each kernel's share.
    func printProfile(_ lian: LianTrainStep) {
        let original = Kernels.backend
        let profiler = ProfilingBackend(wrapping: original)
        Kernels.backend = profiler
        defer { Kernels.backend = original }
        lian.step()
        profiler.reset()
        let start = Stopwatch.now(), waitedBefore = Parallelism.waitedSeconds
        for _ in 0..<steps { lian.step() }
        let stepSeconds = (Stopwatch.now() - start) / Double(steps)
        let waited = (Parallelism.waitedSeconds - waitedBefore) / Double(steps)
        let entries = profiler.entries()
        let covered = entries.reduce(0) { $0 + $1.seconds } / Double(steps)
        var rows = entries.map { e in
            [e.kernel, fixed(Double(e.calls) / Double(steps), 0), fixed(e.seconds / Double(steps) * 1e3, 2),
             fixed(100 * e.seconds / Double(steps) / stepSeconds, 1) + "%", e.flops > 0 ? fixed(e.flops / e.seconds / 1e9, 0) : "",
             fixed(e.waitedSeconds / Double(steps) * 1e3, 2)]
        }
        rows.append(["everything else (optimizer, autograd, copies)", "", fixed((stepSeconds - covered) * 1e3, 2),
                     fixed(100 * (stepSeconds - covered) / stepSeconds, 1) + "%", "",
                     fixed((waited - entries.reduce(0) { $0 + $1.waitedSeconds } / Double(steps)) * 1e3, 2)])
        print("\nWhere a step goes (\(fixed(stepSeconds * 1e3, 1)) ms, \(steps) steps timed kernel by kernel):\n")
        for line in tableLines(header: ["kernel", "calls/step", "ms/step", "of step", "GFLOP/s", "waited ms"], rows: rows) { print(line) }
        // Inside the kernels' times above: a thread whose share is done waits for the other.
        print("\nThe calling thread waited for the other \(fixed(waited * 1e3, 1)) ms a step (\(fixed(100 * waited / stepSeconds, 1))%) "
              + "at the ends of parallel regions (uneven shares, or a thread the machine stopped or started late); "
              + "\"waited ms\" is that wait inside each kernel's time.")
    }

    /// Runs the PyTorch peer; nil when python3, torch or the script is missing.
    func runTorch(_ p: TrainStepPreset) throws -> Measurement? {
        guard FileManager.default.fileExists(atPath: torchScript) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", torchScript, "--preset", p.name, "--steps", String(steps),
                             "--threads", String(Parallelism.threadCount)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let tps = object["tokens_per_second"] as? Double, let ms = object["ms_per_step"] as? Double,
              let mem = object["peak_memory_mb"] as? Double, let params = object["parameters"] as? Int,
              let loss = object["final_loss"] as? Double else { return nil }
        return Measurement(implementation: "PyTorch \(object["torch_version"] as? String ?? "")", preset: p.name,
                           tokensPerSecond: tps, millisecondsPerStep: ms,
                           gflops: tps * p.flopsPerToken(parameters: params) / 1e9, peakMemoryMB: mem,
                           parameters: params, finalLoss: loss)
    }
}

/// Lian's side of the benchmark: one model and optimizer, stepped on fixed random tokens.
final class LianTrainStep {
    let preset: TrainStepPreset
    let model: GPT2
    let optimizer = AdamW(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
    let ids: IndexTensor, targets: IndexTensor
    var lastLoss: Float = 0

    init(preset p: TrainStepPreset) throws {
        preset = p
        model = try GPT2(p.config, seed: 1)
        var rng = SeededRandom(seed: 2)
        let count = p.batch * p.context
        let tokens = (0...count).map { _ in Int32(rng.next() % UInt64(p.config.vocabSize)) }
        ids = IndexTensor(shape: [p.batch, p.context], values: Array(tokens[0..<count]))
        targets = IndexTensor(shape: [p.batch, p.context], values: Array(tokens[1...count]))
    }

    func step() {
        let parameters = model.trainableParameters
        model.zeroGrad()
        let loss = model.loss(ids, targets: targets)
        lastLoss = loss.item
        loss.backward()
        optimizer.step(parameters, learningRate: 1e-4, gradientScale: clippingFactor(parameters, maxNorm: 1))
    }

    /// Two warm-up steps, then `steps` timed ones.
    func measure(steps: Int) -> BenchTrainStepCommand.Measurement {
        step(); step()
        let start = Stopwatch.now()
        for _ in 0..<steps { step() }
        let seconds = (Stopwatch.now() - start) / Double(steps)
        let count = preset.batch * preset.context
        let tokensPerSecond = Double(count) / seconds
        return .init(implementation: "Lian", preset: preset.name, tokensPerSecond: tokensPerSecond,
                     millisecondsPerStep: seconds * 1e3,
                     gflops: tokensPerSecond * preset.flopsPerToken(parameters: model.parameterCount) / 1e9,
                     peakMemoryMB: Double(peakResidentBytes()) / 1_048_576, parameters: model.parameterCount,
                     finalLoss: Double(lastLoss))
    }
}
