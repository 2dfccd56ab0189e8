import Foundation
import LianData
import LianNN
import LianTestSupport
import LianTokenizer
import LianTraining
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

    static func config(data: URL, out: URL, steps: Int) -> TrainingConfig {
        var c = TrainingConfig(model: GPT2Config(vocabSize: 512, contextLength: 32, width: 64, layers: 2, heads: 4),
                               data: data.path, out: out.path)
        c.batchSize = 8; c.context = 32; c.steps = steps; c.learningRate = 3e-3; c.minimumLearningRate = 3e-4
        c.warmupSteps = 5; c.evalInterval = 10; c.evalBatches = 4; c.checkpointInterval = 3; c.keepCheckpoints = 10
        return c
    }

    @Test func resumingContinuesBitForBit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (data, tokenizer) = try Self.prepareData(in: directory)

        let straight = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("a"), steps: 7), tokenizerFile: tokenizer)
        try straight.run()

        let first = try Trainer(config: Self.config(data: data, out: directory.appendingPathComponent("b"), steps: 7), tokenizerFile: tokenizer)
        first.onStep = { $0.step < 3 }   // stop after step 3 (a checkpoint is written)
        let checkpoint = try first.run()!
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
    }

    @Test func lossFallsOnRealText() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-train-\(UUID().uuidString)")
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

    @Test func configErrorsAreClear() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-run-\(UUID().uuidString).json")
        try Data(#"{"model": {"vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2}, "data": "d", "out": "o", "learning_rat": 0.1}"#.utf8).write(to: url)
        #expect { try TrainingConfig.load(url) } throws: { ($0 as? TrainingError)?.message.contains("did you mean 'learning_rate'") == true }
        try Data(#"{"model": {"vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2}, "data": "d", "out": "o", "context": 64}"#.utf8).write(to: url)
        #expect { try TrainingConfig.load(url) } throws: { ($0 as? TrainingError)?.message.contains("context") == true }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("lian-nothing-\(UUID().uuidString)")
        #expect { try Trainer.resume(from: missing) } throws: { ($0 as? TrainingError)?.message.contains("checkpoint folder") == true }
    }
}
