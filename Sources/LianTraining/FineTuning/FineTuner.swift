import Foundation
import LianData
import LianKernels
import LianNN
import LianOptim
import LianTensor
import LianTokenizer

struct FineTuneState: Codable {
    var step: Int
    var batches: ChatBatches.Position
    var dropout: SeededRandom
    var config: FineTuneConfig
    var metrics: [TrainingMetric]
    var consecutiveSkips: Int
}

/// Fine-tuning on chat/instruction data: full (every weight), LoRA (adapters on a frozen base) or
/// QLoRA (adapters on an NF4 base). The loss counts assistant tokens only. Checkpoints hold the
/// adapter in PEFT's format (or, for full fine-tuning, the whole model), the tokenizer with its
/// chat template, the optimizer and the trainer state; `resume` continues bit for bit.
public final class FineTuner {
    public let config: FineTuneConfig
    public let model: any LanguageModel
    public let tokenizer: BPETokenizer
    public let template: ChatTemplate
    public let train: ChatBatches
    public let validation: ChatBatches?
    let optimizer: AdamW
    var dropout: DropoutSource
    let tokenizerURL: URL
    public private(set) var step = 0
    public internal(set) var metrics: [TrainingMetric] = []
    var consecutiveSkips = 0
    let start = Date()
    public var onStep: ((TrainingMetric) -> Bool)?
    public var stopRequested: () -> Bool = { InterruptSignal.isRaised }
    public private(set) var stoppedEarly = false

    public convenience init(config: FineTuneConfig) throws {
        try self.init(config: config, state: nil, checkpoint: nil)
    }

    public static func resume(from checkpoint: URL) throws -> FineTuner {
        let url = checkpoint.appendingPathComponent("trainer_state.json")
        let state: FineTuneState
        do { state = try metricsDecoder().decode(FineTuneState.self, from: Data(contentsOf: url)) } catch {
            throw TrainingError(path: url.path, "is missing or not a fine-tuning state (\(error.localizedDescription)); is \(checkpoint.path) a lian finetune checkpoint?")
        }
        return try FineTuner(config: state.config, state: state, checkpoint: checkpoint)
    }

    init(config: FineTuneConfig, state: FineTuneState?, checkpoint: URL?) throws {
        try config.validate()
        self.config = config
        let base = URL(fileURLWithPath: config.base)
        do {
            // Full fine-tuning resumes from the checkpoint's own weights; adapters go on the base.
            model = try HuggingFaceFolder.loadModel(from: config.method == .full && checkpoint != nil ? checkpoint! : base)
        } catch let e as ModelError { throw TrainingError(path: e.path, e.message) }
        tokenizerURL = config.tokenizer.map { URL(fileURLWithPath: $0) } ?? base.appendingPathComponent("tokenizer.json")
        do { tokenizer = try BPETokenizer(contentsOf: tokenizerURL) } catch {
            throw TrainingError(path: tokenizerURL.path, "cannot load the tokenizer (\(error)); give --tokenizer")
        }
        guard tokenizer.vocabularySize <= model.vocabularySize else {
            throw TrainingError(path: tokenizerURL.path, "has \(tokenizer.vocabularySize) tokens, more than the model's vocabulary of \(model.vocabularySize)")
        }
        do { template = try ChatTemplate(tokenizer: tokenizer) } catch let e as DataError { throw TrainingError(path: tokenizerURL.path, e.message) }

        // Data: examples split by a seeded shuffle, encoded with the template, packed.
        var examples: [ChatExample]
        do { examples = try ChatExample.read(URL(fileURLWithPath: config.data)) } catch let e as DataError { throw TrainingError(path: e.path, e.message) }
        var rng = SeededRandom(seed: config.seed)
        for i in stride(from: examples.count - 1, to: 0, by: -1) { examples.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let held = Int((Double(examples.count) * config.validationFraction).rounded())
        let trainExamples = Array(examples.dropFirst(held)), validationExamples = Array(examples.prefix(held))
        // The held-out examples, for looking at answers to instructions the model never trained on.
        try? FileManager.default.createDirectory(atPath: config.out, withIntermediateDirectories: true)
        let lines = validationExamples.compactMap { e -> String? in
            let object: [String: Any] = ["messages": e.messages.map { ["role": $0.role.rawValue, "content": $0.content] }, "source": e.source]
            return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
        }
        try? (lines.joined(separator: "\n") + "\n").write(toFile: config.out + "/validation.jsonl", atomically: true, encoding: .utf8)
        let tmpl = template
        train = ChatBatches(trainExamples.map { tmpl.encode($0) }, context: config.context, batchSize: config.batchSize,
                            padding: template.endToken, seed: config.seed ^ 0x5EED)
        validation = validationExamples.isEmpty ? nil
            : ChatBatches(validationExamples.map { tmpl.encode($0) }, context: config.context, batchSize: config.batchSize,
                          padding: template.endToken, seed: 1)
        guard !train.rows.isEmpty else { throw TrainingError(path: config.data, "no training examples remain after holding out \(held) for validation") }

        // The method.
        switch config.method {
        case .full:
            model.setTrainable(true)
        case .lora, .qlora:
            if config.method == .qlora { model.quantizeLinearLayers() }
            do {
                if let checkpoint {
                    try PEFTAdapterFolder.load(into: model, from: checkpoint)
                } else {
                    try model.attachLoRA(config.lora, seed: config.seed)
                }
            } catch let e as ModelError { throw TrainingError(path: e.path, e.message) }
        }
        optimizer = AdamW(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: config.weightDecay)
        dropout = DropoutSource(seed: config.seed ^ 0xD20F)
        if let state, let checkpoint {
            step = state.step
            train.restore(state.batches)
            dropout.rng = state.dropout
            metrics = state.metrics
            consecutiveSkips = state.consecutiveSkips
            let url = checkpoint.appendingPathComponent("optimizer.safetensors")
            do { try optimizer.loadState(from: url, parameters: model.trainableParameters) } catch {
                throw TrainingError(path: url.path, "cannot restore the optimizer: \(error)")
            }
        }
    }

    public var learningRateSchedule: LearningRateSchedule {
        .warmupCosine(peak: Float(config.learningRate), warmup: config.warmupSteps, total: config.steps, floor: Float(config.minimumLearningRate))
    }

    /// Trains to `config.steps` (or until stopped), then writes a final checkpoint.
    @discardableResult
    public func run() throws -> URL? {
        var last: URL?
        stoppedEarly = false
        while step < config.steps {
            var metric = try trainStep()
            if step % config.evalInterval == 0 || step == config.steps { metric.validationLoss = evaluate(); metrics[metrics.count - 1] = metric }
            try RunFolder.appendMetric(metric, to: config.out)
            if let onStep, !onStep(metric) { stoppedEarly = true }
            if stopRequested() { stoppedEarly = true }
            if step % config.checkpointInterval == 0 || step == config.steps || stoppedEarly { last = try saveCheckpoint() }
            if stoppedEarly { break }
        }
        return last
    }

    func trainStep() throws -> TrainingMetric {
        let parameters = model.trainableParameters
        model.zeroGrad()
        let (x, y) = train.next()
        let shape = [config.batchSize, config.context]
        let loss = model.loss(IndexTensor(shape: shape, values: x), targets: IndexTensor(shape: shape, values: y), dropout: dropout)
        let value = loss.item
        loss.backward()
        let learningRate = learningRateSchedule.rate(at: step)
        let norm = gradientNorm(parameters)
        var reason: String?
        if !value.isFinite || !norm.isFinite {
            reason = "non-finite \(value.isFinite ? "gradient" : "loss")"
            consecutiveSkips += 1
            if consecutiveSkips >= 5 {
                throw TrainingError(path: config.out, "5 steps in a row had a non-finite loss or gradient at step \(step) (learning rate \(learningRate)); lower learning_rate")
            }
        } else {
            consecutiveSkips = 0
            optimizer.step(parameters, learningRate: Double(learningRate),
                           gradientScale: clippingFactor(maxNorm: config.gradientClip, norm: norm))
        }
        model.zeroGrad()
        step += 1
        let metric = TrainingMetric(step: step, tokens: step * config.batchSize * config.context, loss: value, validationLoss: nil,
                                    validationBitsPerByte: nil, learningRate: learningRate, gradientNorm: norm, skipped: reason != nil,
                                    skipReason: reason, seconds: Date().timeIntervalSince(start))
        metrics.append(metric)
        return metric
    }

    /// Mean loss over the assistant tokens of every validation row (nil without validation data).
    public func evaluate() -> Float? {
        guard let validation else { return nil }
        var total: Double = 0, counted = 0
        withNoGrad {
            for start in stride(from: 0, to: validation.rows.count, by: config.batchSize) {
                let rows = Array(start..<min(start + config.batchSize, validation.rows.count))
                var x: [Int32] = [], y: [Int32] = []
                for r in rows { let e = validation.example(r); x += e.inputs; y += e.targets }
                let n = y.filter { $0 != -100 }.count
                guard n > 0 else { continue }
                let shape = [rows.count, config.context]
                total += Double(model.loss(IndexTensor(shape: shape, values: x), targets: IndexTensor(shape: shape, values: y)).item) * Double(n)
                counted += n
            }
        }
        return counted > 0 ? Float(total / Double(counted)) : nil
    }

    /// out/checkpoint-STEP: the adapter (PEFT) or, for full fine-tuning, the model; the tokenizer
    /// and its chat template; the optimizer and trainer state.
    @discardableResult
    public func saveCheckpoint() throws -> URL {
        let final = try RunFolder.writeCheckpoint(step: step, out: config.out) { folder in
            switch config.method {
            case .full: try HuggingFaceFolder.save(model, to: folder)
            case .lora, .qlora: try PEFTAdapterFolder.save(model, config: config.lora, baseModel: config.base, to: folder)
            }
            try FileManager.default.copyItem(at: tokenizerURL, to: folder.appendingPathComponent("tokenizer.json"))
            try ChatTemplateFile.write(template, to: folder)
            try optimizer.saveState(to: folder.appendingPathComponent("optimizer.safetensors"))
            try RunFolder.writeState(FineTuneState(step: step, batches: train.position, dropout: dropout.rng, config: config,
                                                   metrics: metrics, consecutiveSkips: consecutiveSkips),
                                     to: folder.appendingPathComponent("trainer_state.json"))
        }
        try RunFolder.pruneCheckpoints(in: config.out, keep: config.keepCheckpoints, metrics: metrics)
        try LossPlot.run(metrics, title: "\(config.method.rawValue) fine-tuning · step \(step)")
            .write(to: URL(fileURLWithPath: config.out).appendingPathComponent("loss.svg"))
        return final
    }
}
