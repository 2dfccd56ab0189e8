import ArgumentParser
import Foundation
import LianData
import LianKernels
import LianNN
import LianTensor
import LianTokenizer
import LianTraining

/// `lian bench time-to-quality`: the same model, tokenizer and shards trained for the same
/// wall-clock budget by Lian and by a PyTorch loop (Scripts/bench/torch_train_loop.py), each
/// sizing its cosine schedule to the budget from its own step time: first from a probe, then, at
/// the end of warmup, from the run's own steps (TimeBudget; the loop does the same). Validation bits per
/// byte on the same fixed windows of val.bin at 20 points; evaluation time is not training time.
/// The two sides take turns a step at a time (each clock counts only its own steps, and each turn
/// starts after the other side's idle threads have stopped spinning: TorchPeer), so that both
/// see the same minutes of a shared host whose speed drifts (`--sequential` runs PyTorch after
/// Lian instead; in the runs of BENCHMARKS.md the order did not change the step ratio much).
struct BenchTimeToQualityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "time-to-quality",
        abstract: "Validation bits per byte against training time, Lian vs a PyTorch loop, same model and data.")

    @Option(help: "Folder with train.bin and val.bin (lian data prepare).") var data: String
    @Option(help: "The tokenizer.json the shards were made with.") var tokenizer: String
    @Option(help: "GPT-2 preset: tiny or small.") var preset: String = "small"
    @Option(help: "Training budget in seconds, for each side.") var seconds: Double = 300
    @Option(help: "Evaluation points over the budget.") var evals: Int = 20
    @Option(help: "Contiguous windows of val.bin evaluated each time.") var evalWindows: Int = 32
    @Option(help: "Run the PyTorch peer: auto, always or never.") var torch: String = "auto"
    @Option(help: "Path to the PyTorch loop, from the package root.") var torchScript: String = "Scripts/bench/torch_train_loop.py"
    @Option(help: "Where the plot and results go.") var out: String = "bench-time-to-quality"
    @Flag(help: "Train PyTorch after Lian instead of taking turns a step at a time.") var sequential = false

    struct Point: Codable { var seconds: Double; var tokens: Int; var step: Int; var bitsPerByte: Double }

    func run() throws {
        guard ["tiny", "small"].contains(preset) else { throw ValidationError("--preset must be tiny or small (GPT-2, as the PyTorch loop builds)") }
        guard ["auto", "always", "never"].contains(torch) else { throw ValidationError("--torch must be auto, always or never") }
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let tok = try loadTokenizer(tokenizer)
        var config = try TrainingPresets.config(preset, vocabularySize: tok.vocabularySize, data: data, out: outURL.appendingPathComponent("lian").path)
        guard case .gpt2(let model) = config.model else { throw CLIError("the \(preset) preset is not GPT-2") }
        // The trainer's own validation is not used here (the windows below are), but it runs at
        // the last step, before that step is reported: with its default 10 batches it made the
        // step-time probe read ~20% slow on small, and Lian's schedule stopped short of the budget.
        config.evalBatches = 1

        // The evaluation windows and their bytes (for bits per byte, the same for both sides).
        let val: TokenShard
        do { val = try TokenShard(url: URL(fileURLWithPath: data).appendingPathComponent("val.bin")) } catch let e as DataError { throw CLIError(e.description) }
        let t = config.context
        guard val.count > evalWindows * t + 1 else { throw CLIError("\(val.path): \(val.count) tokens, fewer than --eval-windows × context + 1 = \(evalWindows * t + 1)") }
        var inputs = [Int32](), targets = [Int32]()
        for w in 0..<evalWindows { for i in 0..<t { inputs.append(val[w * t + i]); targets.append(val[w * t + i + 1]) } }
        let bytes = targets.reduce(0) { $0 + tok.decodeBytes([$1]).count }
        let bitsPerByte = { (loss: Double) in loss / log(2) * Double(targets.count) / Double(bytes) }

        // Lian: probe, size the schedule, train, evaluate on the fixed windows.
        say("lian bench time-to-quality — \(BenchReport<BenchTrainStepCommand.Measurement>.machineLine), \(Parallelism.threadCount) threads")
        say("GPT-2 \(preset): \(model.layers) layers, width \(model.width), context \(t), batch \(config.batchSize); budget \(Int(seconds)) s each\n")
        let secondsPerStep = try StepTimeProbe.secondsPerStep(config, tokenizer: URL(fileURLWithPath: tokenizer), scratch: outURL.appendingPathComponent(".probe"))
        config.steps = max(50, Int(seconds / secondsPerStep))
        config.evalInterval = Int.max / 2; config.checkpointInterval = Int.max / 2
        try? FileManager.default.removeItem(atPath: config.out)
        let trainer = try Trainer(config: config, tokenizerFile: URL(fileURLWithPath: tokenizer))
        trainer.stopRequested = { false }
        var evalSteps = Self.evaluationSteps(total: config.steps, count: evals)
        var budget = TimeBudget(seconds: seconds, warmupSteps: config.warmupSteps)
        func evaluate() -> Double {
            withNoGrad {
                Double(trainer.model.loss(IndexTensor(shape: [evalWindows, t], values: inputs),
                                          targets: IndexTensor(shape: [evalWindows, t], values: targets)).item)
            }
        }
        var lianCurve = [Point(seconds: 0, tokens: 0, step: 0, bitsPerByte: bitsPerByte(evaluate()))]

        // PyTorch starts now when the sides take turns: its own probe and first evaluation run
        // while Lian waits, then a step of each in turn.
        var peer: TorchPeer?
        if torch != "never" && !sequential {
            FileHandle.standardError.write(Data("PyTorch  measuring its step; then the two take turns, a step each…\n".utf8))
            peer = startTorch(model: model, config: config, alternating: true)
            if let p = peer, !p.awaitFirstTurn() { peer = nil; _ = p.finish() }
        }
        var clock = 0.0, lastEnd = Date()
        trainer.onStep = { m in
            clock += Date().timeIntervalSince(lastEnd)
            if let total = budget.totalSteps(afterStep: m.step, clock: clock) {
                // The length from this run's own steps; the evaluations still to come spread over it.
                try? trainer.resize(steps: total)
                evalSteps = evalSteps.filter { $0 <= m.step }.union(Self.evaluationSteps(total: trainer.config.steps, count: evals).filter { $0 > m.step })
            }
            if evalSteps.contains(m.step) {
                lianCurve.append(Point(seconds: clock, tokens: m.tokens, step: m.step, bitsPerByte: bitsPerByte(evaluate())))
                FileHandle.standardError.write(Data(String(format: "\rLian     step %d/%d  %.0f s  %.4f bits/byte\u{1B}[K", m.step, trainer.config.steps, clock, lianCurve.last!.bitsPerByte).utf8))
            }
            peer?.takeTurn()    // PyTorch's step, on PyTorch's clock, not Lian's
            lastEnd = Date()
            return true
        }
        try trainer.run()
        FileHandle.standardError.write(Data("\n".utf8))

        // PyTorch: the rest of its run (alone), or all of it when the sides do not take turns.
        var torchCurve: [Point] = []
        if torch != "never" {
            if sequential {
                FileHandle.standardError.write(Data("PyTorch  training for \(Int(seconds)) s…\n".utf8))
                peer = startTorch(model: model, config: config, alternating: false)
            } else if peer != nil {
                FileHandle.standardError.write(Data("PyTorch  finishing its run…\n".utf8))
            }
            if let object = peer?.finish(), let curve = Self.curve(object, bitsPerByte: bitsPerByte) {
                torchCurve = curve
            } else if torch == "always" {
                throw CLIError("PyTorch could not be run (python3 with torch and numpy, and \(torchScript) from the package root, are needed)")
            }
        }

        // Results, plot, summary.
        var plot = LossPlot(title: "GPT-2 \(preset), \(Int(seconds)) s of training, \(Parallelism.threadCount) threads", xLabel: "seconds of training")
        plot.yLabel = "validation bits per byte"
        plot.series.append(.init(name: "Lian", color: "#d1495b", points: lianCurve.map { ($0.seconds, $0.bitsPerByte) }, emphasized: true))
        if !torchCurve.isEmpty {
            plot.series.append(.init(name: "PyTorch", color: "#1f5fa8", points: torchCurve.map { ($0.seconds, $0.bitsPerByte) }, emphasized: true))
        }
        try plot.write(to: outURL.appendingPathComponent("time-to-quality.svg"))
        let encoder = JSONEncoder(); encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(["lian": lianCurve, "pytorch": torchCurve]).write(to: outURL.appendingPathComponent("time-to-quality.json"))
        say(String(format: "Lian:    %d steps, final %.4f bits/byte after %.0f s", trainer.config.steps, lianCurve.last!.bitsPerByte, lianCurve.last!.seconds))
        if let last = torchCurve.last {
            say(String(format: "PyTorch: %d steps, final %.4f bits/byte after %.0f s", last.step, last.bitsPerByte, last.seconds))
            if let reach = Self.firstTime(lianCurve, reaching: last.bitsPerByte) {
                say(String(format: "Lian reaches PyTorch's final value after %.0f s = %.2f of PyTorch's time (target ≤ 0.67)", reach, reach / last.seconds))
            } else {
                say("Lian does not reach PyTorch's final value within the budget")
            }
        }
        say("plot: \(outURL.appendingPathComponent("time-to-quality.svg").path)")
    }

    /// The steps after which a run of `total` steps is evaluated: `count` points evenly spread.
    static func evaluationSteps(total: Int, count: Int) -> Set<Int> {
        Set((1...count).map { max(1, Int((Double(total) * Double($0) / Double(count)).rounded())) })
    }

    /// The first time the curve is at or below `target`, interpolated linearly between points.
    static func firstTime(_ curve: [Point], reaching target: Double) -> Double? {
        for (a, b) in zip(curve, curve.dropFirst()) where b.bitsPerByte <= target {
            if a.bitsPerByte <= target { return a.seconds }
            return a.seconds + (b.seconds - a.seconds) * (a.bitsPerByte - target) / (a.bitsPerByte - b.bitsPerByte)
        }
        return nil
    }

    /// Starts the PyTorch loop on the same model, data and settings (nil when it cannot start).
    func startTorch(model: GPT2Config, config: TrainingConfig, alternating: Bool) -> TorchPeer? {
        let arguments = ["--data", data, "--vocab", String(model.vocabSize), "--layers", String(model.layers),
                         "--heads", String(model.heads), "--width", String(model.width), "--positions", String(model.contextLength),
                         "--batch", String(config.batchSize), "--context", String(config.context),
                         "--lr", String(config.learningRate), "--min-lr", String(config.minimumLearningRate),
                         "--warmup", String(config.warmupSteps), "--seconds", String(seconds), "--evals", String(evals),
                         "--eval-windows", String(evalWindows), "--threads", String(Parallelism.threadCount)]
        return TorchPeer(script: torchScript, arguments: arguments + (alternating ? ["--alternate"] : []), alternating: alternating)
    }

    /// The validation curve in the PyTorch loop's JSON object, in bits per byte.
    static func curve(_ object: [String: Any], bitsPerByte: (Double) -> Double) -> [Point]? {
        guard let curve = object["curve"] as? [[String: Any]] else { return nil }
        return curve.compactMap { p in
            guard let s = p["seconds"] as? Double, let tokens = p["tokens"] as? Int, let step = p["step"] as? Int,
                  let loss = p["val_loss"] as? Double else { return nil }
            return Point(seconds: s, tokens: tokens, step: step, bitsPerByte: bitsPerByte(loss))
        }
    }
}
