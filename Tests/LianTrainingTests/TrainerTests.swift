import Foundation
import LianData
import LianNN
import LianTestSupport
import LianTokenizer
@testable import LianTraining
import Testing

@Suite struct TrainerTests {
    /// A small corpus: real text when ../shared is there, else a generated one; a tokenizer trained
    /// on it and shards written by the data pipeline.
    static func prepareData(in directory: URL) throws -> (data: URL, tokenizer: URL) {
        var text = (0..<400).map { "line \($0): the quick brown fox jumps over the lazy dog \($0 % 7) times." }.joined(separator: "\n\n")
        if let shared = SharedFolder.locate(),
           let s = try? String(contentsOf: shared.appendingPathComponent("corpora/en_shakespeare_gut.txt"), encoding: .utf8) {
            text = String(s.prefix(200_000))
        }
        let corpus = directory.appendingPathComponent("corpus.txt")
        try text.write(to: corpus, atomically: true, encoding: .utf8)
        var trainer = BPETrainer(vocabularySize: 512, preTokenizer: .gpt2)
        trainer.count(text)
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        try trainer.train().write(to: tokenizerURL)
        var pipeline = DataPipeline()
        pipeline.nearDuplicates = nil
        pipeline.validationFraction = 0.05
        let data = directory.appendingPathComponent("data")
        _ = try pipeline.run(inputs: [corpus.path], tokenizer: try BPETokenizer(contentsOf: tokenizerURL), outputDirectory: data)
        return (data, tokenizerURL)
    }

    static let architectures: [ModelConfiguration] = [
        .gpt2(GPT2Config(vocabSize: 512, contextLength: 32, width: 64, layers: 2, heads: 4)),
        .llama(LlamaConfig(vocabSize: 512, width: 64, mlpSize: 160, layers: 2, heads: 4, kvHeads: 2, contextLength: 32)),
    ]

    static func config(data: URL, out: URL, steps: Int, model: ModelConfiguration = architectures[0]) -> TrainingConfig {
        var c = TrainingConfig(model: model, data: data.path, out: out.path)
        c.batchSize = 8; c.context = 32; c.steps = steps; c.learningRate = 3e-3; c.minimumLearningRate = 3e-4
        c.warmupSteps = 5; c.evalInterval = 10; c.evalBatches = 4; c.checkpointInterval = 3; c.keepCheckpoints = 10
        return c
    }

    @Test(arguments: [0, 1]) func resumingContinuesBitForBit(_ architecture: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        let model = Self.architectures[architecture]

        let straight = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("a"), steps: 7, model: model),
                                   tokenizerFile: tokenizer)
        try straight.run()
        #expect(!straight.stoppedEarly)

        let first = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("b"), steps: 7, model: model),
                                tokenizerFile: tokenizer)
        first.stopRequested = { first.step >= 3 }   // as Ctrl-C after step 3: a checkpoint is written
        let checkpoint = try first.run()!
        #expect(first.stoppedEarly)
        #expect(checkpoint.lastPathComponent == "checkpoint-00000003")
        let resumed = try Trainer.resume(from: checkpoint)
        try resumed.run()

        #expect(resumed.metrics.map(\.loss) == straight.metrics.map(\.loss), "loss curves differ")
        for ((p1, a), (p2, b)) in zip(straight.model.namedParameters(), resumed.model.namedParameters()) {
            #expect(p1 == p2 && a.value.scalars == b.value.scalars, "\(p1) differs after resuming")
        }
        // The checkpoint is a Hugging Face folder with the tokenizer and the trainer state.
        for file in ["config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors", "trainer_state.json"] {
            #expect(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(file).path), "\(file)")
        }
        #expect(resumed.model.configuration == model)
        // The loss plot is written with each checkpoint.
        let svg = try String(contentsOf: directory.appendingPathComponent("b/loss.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.contains("validation"))
    }

    @Test func aCheckpointOfAnotherModelIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        let trainer = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("a"), steps: 1), tokenizerFile: tokenizer)
        let checkpoint = try trainer.run()!
        // Swap in a LLaMA model's weights and config: the trainer state no longer matches.
        let other = try Self.architectures[1].makeModel(seed: 1)
        try HuggingFaceFolder.save(other, to: checkpoint)
        #expect { try Trainer.resume(from: checkpoint) } throws: { ($0 as? TrainingError)?.message.contains("does not match") == true }
        // A truncated model file is refused with its name.
        let weights = checkpoint.appendingPathComponent("model.safetensors")
        try Data(try Data(contentsOf: weights).prefix(100)).write(to: weights)
        #expect { try Trainer.resume(from: checkpoint) } throws: { ($0 as? TrainingError)?.description.contains("model.safetensors") == true }
    }

    @Test func aTokenBudgetSetsTheAccumulation() throws {
        var c = Self.config(data: URL(fileURLWithPath: "d"), out: URL(fileURLWithPath: "o"), steps: 1)
        c.tokensPerStep = 1000   // 8 × 32 = 256 tokens per micro-batch → 4 micro-batches (1,024 tokens)
        #expect(c.microBatches == 4 && c.tokensPerOptimizerStep == 1024)
        c.tokensPerStep = nil; c.accumulation = 3
        #expect(c.microBatches == 3)
    }

    @Test func accumulatedMicroBatchesEqualOneBigBatch() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        // 2 micro-batches of 4 see the same windows as one batch of 8 (the loader draws row by row),
        // so the first step's loss and the updated weights agree to rounding.
        let big = Self.config(data: data, out: directory.appendingPathComponent("big"), steps: 1)
        var split = Self.config(data: data, out: directory.appendingPathComponent("split"), steps: 1)
        split.batchSize = 4; split.tokensPerStep = 8 * 32
        let a = try Trainer(config: big, tokenizerFile: tokenizer), b = try Trainer(config: split, tokenizerFile: tokenizer)
        try a.run(); try b.run()
        #expect(b.config.microBatches == 2)
        #expect(abs(a.metrics[0].loss! - b.metrics[0].loss!) < 1e-4, "\(a.metrics[0].loss!) vs \(b.metrics[0].loss!)")
        for ((name, p), (_, q)) in zip(a.model.namedParameters(), b.model.namedParameters()) {
            let worst = zip(p.value.scalars, q.value.scalars).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "\(name): \(worst)")
        }
    }

    @Test func aDivergingRunStopsWithADiagnosis() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        var c = Self.config(data: data, out: directory.appendingPathComponent("run"), steps: 40)
        c.learningRate = 1e4; c.minimumLearningRate = 1e4; c.warmupSteps = 0; c.gradientClip = 1e30
        let trainer = try Trainer(config: c, tokenizerFile: tokenizer)
        #expect { try trainer.run() } throws: { error in
            guard let e = error as? TrainingError else { return false }
            return e.message.contains("steps in a row were skipped") && e.message.contains("learning_rate")
        }
        let lastFive = trainer.metrics.suffix(5).map { $0.skipped }
        #expect(lastFive == [true, true, true, true, true])
    }

    @Test func lossSpikesAreScoredAgainstRecentSteps() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        let trainer = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("run"), steps: 1), tokenizerFile: tokenizer)
        #expect(trainer.spikeScore(100) == nil, "no history yet")
        // 30 steps around 3.0 ± 0.1.
        trainer.metrics = (0..<30).map { i in
            TrainingMetric(step: i + 1, tokens: 0, loss: 3 + (i % 2 == 0 ? 0.1 : -0.1), learningRate: 0, gradientNorm: 1, skipped: false, seconds: 0)
        }
        #expect(try #require(trainer.spikeScore(3.05)) < 1)
        #expect(try #require(trainer.spikeScore(5)) > 6, "a jump of 2 is a spike")
    }

    @Test func lossFallsOnRealText() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        var config = Self.config(data: data, out: directory.appendingPathComponent("run"), steps: 150)
        config.checkpointInterval = 150
        config.evalInterval = 25
        let trainer = try Trainer(config: config, tokenizerFile: tokenizer)
        try trainer.run()
        let evaluations = trainer.metrics.compactMap(\.validationLoss)
        print("validation loss every 25 steps: \(evaluations)")
        #expect(evaluations.count == 6)
        // From ln(512) ≈ 6.24 at initialisation: the model must learn well beyond unigram statistics.
        #expect(evaluations.last! < evaluations.first! - 0.4 && evaluations.last! < 5.0, "validation loss \(evaluations)")
        #expect(zip(evaluations, evaluations.dropFirst()).allSatisfy { $1 < $0 + 0.05 }, "validation loss rose: \(evaluations)")
        #expect(trainer.metrics.last!.validationBitsPerByte != nil)
        let lines = try String(contentsOf: directory.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 150)
    }

    @Test func aRunResizedAtTheEndOfWarmupIsTheRunPlannedSoFromTheStart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        let planned = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("a"), steps: 9), tokenizerFile: tokenizer)
        try planned.run()

        // Planned for 40 steps; at the end of warmup (5 steps) told to end at 9.
        let resized = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("b"), steps: 40), tokenizerFile: tokenizer)
        resized.onStep = { m in
            if m.step == 5 { try! resized.resize(steps: 9) }
            return true
        }
        try resized.run()
        #expect(resized.step == 9 && resized.config.steps == 9)
        #expect(resized.metrics.map(\.learningRate) == planned.metrics.map(\.learningRate))
        #expect(resized.metrics.map(\.loss) == planned.metrics.map(\.loss))
        #expect(throws: TrainingError.self) { try resized.resize(steps: 9) }   // no shorter than the steps done
    }

    @Test func aTimeBudgetSizesTheRunFromItsOwnSteps() {
        var budget = TimeBudget(seconds: 100, warmupSteps: 50)
        #expect(budget.firstTimedStep == 5 && budget.sizingStep == 50)
        // Five slow first steps (2 s each), then 0.5 s a step.
        var total: Int?
        for step in 1...50 {
            let clock = step <= 5 ? 2.0 * Double(step) : 10 + 0.5 * Double(step - 5)
            if let t = budget.totalSteps(afterStep: step, clock: clock) { total = t; #expect(step == 50) }
        }
        // 32.5 s spent after 50 steps; 67.5 s more at 0.5 s a step.
        #expect(total == 50 + 135)
        // A budget already spent still ends one step later, not before.
        var spent = TimeBudget(seconds: 1, warmupSteps: 0)
        #expect(spent.sizingStep == 20 && spent.firstTimedStep == 5)
        var last: Int?
        for step in 1...20 { last = spent.totalSteps(afterStep: step, clock: Double(step)) ?? last }
        #expect(last == 21)
    }

    @Test func configErrorsAreClear() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-run-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(#"{"model": {"vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2}, "data": "d", "out": "o", "learning_rat": 0.1}"#.utf8).write(to: url)
        #expect { try TrainingConfig.load(url) } throws: { ($0 as? TrainingError)?.message.contains("did you mean 'learning_rate'") == true }
        try Data(#"{"model": {"vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2}, "data": "d", "out": "o", "context": 64}"#.utf8).write(to: url)
        #expect { try TrainingConfig.load(url) } throws: { ($0 as? TrainingError)?.message.contains("context") == true }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("lian-nothing-\(UUID().uuidString)")
        #expect { try Trainer.resume(from: missing) } throws: { ($0 as? TrainingError)?.message.contains("checkpoint folder") == true }
    }

    @Test func distillationFromACacheResumesBitForBitAndChecksTheTeacher() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-distill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)
        let teacherFolder = directory.appendingPathComponent("teacher")
        try HuggingFaceFolder.save(try GPT2(GPT2Config(vocabSize: 512, contextLength: 32, width: 64, layers: 2, heads: 4), seed: 9), to: teacherFolder)
        let cacheURL = directory.appendingPathComponent("cache.safetensors")
        try TeacherCache.build(teacher: try HuggingFaceFolder.loadModel(from: teacherFolder),
                               shard: try TokenShard(url: data.appendingPathComponent("train.bin")), context: 32, k: 8, to: cacheURL)
        func config(_ out: String, cached: Bool) -> TrainingConfig {
            var c = Self.config(data: data, out: directory.appendingPathComponent(out), steps: 6,
                                model: .gpt2(GPT2Config(vocabSize: 512, contextLength: 32, width: 32, layers: 1, heads: 2)))
            var d = DistillationConfig(teacher: teacherFolder.path, teacherCache: cached ? cacheURL.path : nil)
            d.topK = 8; d.alpha = 0.7; d.divergence = .symmetric
            c.distillation = d
            return c
        }
        let straight = try Trainer(config: config("a", cached: true), tokenizerFile: tokenizer)
        try straight.run()
        let first = try Trainer(config: config("b", cached: true), tokenizerFile: tokenizer)
        first.stopRequested = { first.step >= 3 }
        let resumed = try Trainer.resume(from: try first.run()!)
        try resumed.run()
        #expect(resumed.metrics.map(\.loss) == straight.metrics.map(\.loss))
        #expect(straight.metrics.allSatisfy { $0.loss!.isFinite && !$0.skipped })
        // A live teacher trains too (its equality with the cache is TeacherCacheTests').
        var c = config("c", cached: false); c.steps = 2
        let live = try Trainer(config: c, tokenizerFile: tokenizer)
        try live.run()
        #expect(live.metrics.allSatisfy { $0.loss!.isFinite })
        // A teacher with another vocabulary is refused.
        let other = directory.appendingPathComponent("other")
        try HuggingFaceFolder.save(try GPT2(GPT2Config(vocabSize: 600, contextLength: 32, width: 32, layers: 1, heads: 2), seed: 1), to: other)
        var bad = config("d", cached: false)
        bad.distillation!.teacher = other.path
        #expect { try Trainer(config: bad, tokenizerFile: tokenizer) } throws: { ($0 as? TrainingError)?.message.contains("vocabulary") == true }
    }
}
