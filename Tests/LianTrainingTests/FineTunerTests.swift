import Foundation
import LianData
import LianNN
import LianTensor
import LianTokenizer
@testable import LianTraining
import Testing

@Suite struct FineTunerTests {
    /// A tiny LLaMA base with a tokenizer that reserves the ChatML tokens, and chat data.
    static func fixture() throws -> (directory: URL, base: URL, data: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-ft-\(UUID().uuidString)")
        let base = directory.appendingPathComponent("base")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let pairs = (0..<40).map { i in ("What is \(i) plus \(i)?", "\(i) plus \(i) is \(2 * i).") }
        var trainer = BPETrainer(vocabularySize: 320, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], preTokenizer: .gpt2)
        for (q, a) in pairs { trainer.count("user\n" + q + "\nassistant\n" + a) }
        try trainer.train().write(to: base.appendingPathComponent("tokenizer.json"))
        let model = try Llama(LlamaConfig(vocabSize: 320, width: 32, mlpSize: 64, layers: 2, heads: 4, kvHeads: 2, contextLength: 64), seed: 1)
        try HuggingFaceFolder.save(model, to: base)
        let lines = pairs.enumerated().map { i, p in
            i % 2 == 0
                ? #"{"instruction": "\#(p.0)", "output": "\#(p.1)"}"#
                : #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "\#(p.0)"}, {"role": "assistant", "content": "\#(p.1)"}]}"#
        }
        let data = directory.appendingPathComponent("chat.jsonl")
        try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        return (directory, base, data)
    }

    static func config(_ f: (directory: URL, base: URL, data: URL), method: FineTuneConfig.Method, out: String, steps: Int) -> FineTuneConfig {
        var c = FineTuneConfig(base: f.base.path, data: f.data.path, out: f.directory.appendingPathComponent(out).path)
        c.method = method; c.loraRank = 4; c.loraAlpha = 8; c.loraDropout = 0.1; c.loraTargets = ["all-linear"]
        c.batchSize = 4; c.context = 48; c.steps = steps; c.learningRate = 3e-3; c.warmupSteps = 2
        c.evalInterval = 5; c.checkpointInterval = 3; c.keepCheckpoints = 10
        return c
    }

    @Test func onlyAssistantTokensAreTargets() throws {
        let f = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: f.directory) }
        let tokenizer = try BPETokenizer(contentsOf: f.base.appendingPathComponent("tokenizer.json"))
        let template = try ChatTemplate(tokenizer: tokenizer)
        #expect(template.style == .chatML)
        let example = ChatExample(messages: [ChatMessage(.system, "Be brief."), ChatMessage(.user, "What is 2 plus 2?"),
                                             ChatMessage(.assistant, "2 plus 2 is 4.")])
        let (ids, trained) = template.encode(example)
        let learned = zip(ids, trained).filter(\.1).map(\.0)
        #expect(learned == tokenizer.encode("2 plus 2 is 4.") + [template.endToken], "exactly the answer and its end token")
        #expect(tokenizer.decode(ids).hasPrefix("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"))
        // The prompt for generation is the conversation up to the assistant header.
        let prompt = template.prompt(Array(example.messages.dropLast()))
        #expect(Array(ids.prefix(prompt.count)) == prompt)

        // Batches: targets are −100 wherever the next token is not trained.
        let batches = ChatBatches([(ids, trained)], context: ids.count - 1, batchSize: 1, padding: template.endToken, seed: 1)
        let (x, y) = batches.next()
        #expect(x == Array(ids.dropLast()))
        #expect(y == (1..<ids.count).map { trained[$0] ? ids[$0] : -100 })
    }

    @Test func lossAndGradientsComeOnlyFromAssistantTokens() throws {
        let f = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: f.directory) }
        let tuner = try FineTuner(config: Self.config(f, method: .lora, out: "mask", steps: 1))
        let (x, y) = tuner.train.next()
        let shape = [tuner.config.batchSize, tuner.config.context]
        // Changing every prompt token's target leaves the loss and the gradients unchanged: they
        // carry no weight. (Without masking, the loss would change.)
        var scrambled = y
        var rng = 0
        for i in scrambled.indices where scrambled[i] == -100 { scrambled[i] = Int32(rng % 300); rng += 7 }
        let masked = tuner.model.loss(IndexTensor(shape: shape, values: x), targets: IndexTensor(shape: shape, values: y))
        masked.backward()
        let g1 = tuner.model.loraParameters.map { $0.parameter.grad!.scalars }
        tuner.model.zeroGrad()
        let unmasked = tuner.model.loss(IndexTensor(shape: shape, values: x), targets: IndexTensor(shape: shape, values: scrambled))
        #expect(abs(masked.item - unmasked.item) > 1e-3, "the scrambled prompt targets count when not masked")
        // Re-mask the scrambled targets the way the loader does and compare gradients.
        let remasked = zip(scrambled, y).map { $1 == -100 ? -100 : $0 }
        tuner.model.zeroGrad()
        let again = tuner.model.loss(IndexTensor(shape: shape, values: x), targets: IndexTensor(shape: shape, values: remasked))
        again.backward()
        let g2 = tuner.model.loraParameters.map { $0.parameter.grad!.scalars }
        #expect(again.item == masked.item && g1 == g2)
        #expect(y.contains(-100) && y.contains { $0 != -100 })
    }

    @Test(arguments: [FineTuneConfig.Method.lora, .qlora, .full]) func resumingContinuesBitForBit(_ method: FineTuneConfig.Method) throws {
        let f = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: f.directory) }
        let straight = try FineTuner(config: Self.config(f, method: method, out: "a-\(method)", steps: 6))
        try straight.run()
        let first = try FineTuner(config: Self.config(f, method: method, out: "b-\(method)", steps: 6))
        first.stopRequested = { first.step >= 3 }
        let checkpoint = try first.run()!
        let resumed = try FineTuner.resume(from: checkpoint)
        try resumed.run()
        #expect(resumed.metrics.map(\.loss) == straight.metrics.map(\.loss), "\(method): loss curves differ")
        for ((p, a), (_, b)) in zip(straight.model.trainableParameters, resumed.model.trainableParameters) {
            #expect(a.value.scalars == b.value.scalars, "\(method): \(p) differs after resuming")
        }
        let files = ["tokenizer.json", "tokenizer_config.json", "optimizer.safetensors", "trainer_state.json"]
            + (method == .full ? ["model.safetensors", "config.json"] : ["adapter_model.safetensors", "adapter_config.json"])
        for file in files { #expect(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(file).path), "\(method): \(file)") }
        #expect(straight.metrics.last!.validationLoss! < straight.evaluateBaseline, "\(method): validation loss did not fall")
    }

    @Test func badDataIsRefusedWithItsLine() throws {
        let f = try Self.fixture()
        defer { try? FileManager.default.removeItem(at: f.directory) }
        try #"{"instruction": "a", "output": "b"}\#n{"prompt": "x"}"#.write(to: f.data, atomically: true, encoding: .utf8)
        #expect { try FineTuner(config: Self.config(f, method: .lora, out: "bad", steps: 1)) } throws: {
            ($0 as? TrainingError)?.path.hasSuffix("chat.jsonl:2") == true
        }
    }
}

extension FineTuner {
    /// The validation loss of the base model with the adapters at zero (B = 0) or the untouched
    /// weights, for "did it learn" checks: a fresh tuner of the same config before any step.
    var evaluateBaseline: Float {
        (try? FineTuner(config: config).evaluate() ?? .infinity) ?? .infinity
    }
}

@Suite struct TrainingPlanTests {
    @Test(arguments: [0, 1, 2, 3]) func parameterCountsEqualTheModels(_ i: Int) throws {
        let configs: [ModelConfiguration] = [
            .gpt2(GPT2Config(vocabSize: 50, contextLength: 16, width: 24, layers: 2, heads: 3)),
            .gpt2(GPT2Config(vocabSize: 50, contextLength: 16, width: 24, layers: 2, heads: 3, tieWordEmbeddings: false)),
            .llama(LlamaConfig(vocabSize: 50, width: 32, mlpSize: 48, layers: 2, heads: 4, kvHeads: 2, contextLength: 16)),
            .llama(LlamaConfig(vocabSize: 50, width: 32, mlpSize: 48, layers: 2, heads: 4, contextLength: 16, tieWordEmbeddings: true)),
        ]
        let model = try configs[i].makeModel(seed: 1)
        let full = TrainingPlan(config: configs[i], method: .full, batch: 2, context: 8)
        #expect(full.parameters == model.parameterCount && full.trainableParameters == model.parameterCount)
        let lora = LoRAConfig(rank: 4, alpha: 8, targetModules: ["all-linear"])
        let plan = TrainingPlan(config: configs[i], method: .lora, lora: lora, batch: 2, context: 8)
        try model.attachLoRA(lora, seed: 1)
        #expect(plan.trainableParameters == model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count })
        #expect(plan.gradients == Double(plan.trainableParameters) * 4 && plan.total > plan.weights + plan.activations)
        // LoRA skips the frozen weights' gradient products: fewer FLOPs than full training.
        #expect(plan.flopsPerToken < full.flopsPerToken)
    }
}
