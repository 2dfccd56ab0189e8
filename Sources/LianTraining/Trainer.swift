import Foundation
import LianData
import LianKernels
import LianNN
import LianOptim
import LianTensor

/// One line of metrics.jsonl.
public struct TrainingMetric: Codable, Equatable, Sendable {
    public var step: Int
    public var tokens: Int
    public var loss: Float?
    public var validationLoss: Float?
    public var validationBitsPerByte: Double?
    public var learningRate: Float
    public var gradientNorm: Float?
    public var skipped: Bool
    /// Why the step was skipped: a non-finite loss or gradient, or a loss spike.
    public var skipReason: String?
    public var seconds: Double
}

/// What a checkpoint holds beside the model: everything needed to continue exactly.
struct TrainerState: Codable {
    var step: Int
    var loader: BatchLoader.Position
    var dropout: SeededRandom
    var config: TrainingConfig
    var metrics: [TrainingMetric]
    var bestValidationLoss: Float?
    var consecutiveSkips: Int
}

/// The training loop: AdamW with decay on ≥ 2-D weights, warmup + cosine (or WSD), gradient
/// accumulation, global-norm clipping, periodic evaluation and checkpoints. Seeded: the same config
/// gives the same run, and a run resumed from a checkpoint continues bit for bit.
public final class Trainer {
    /// The run's settings; only `resize(steps:)` changes them (the length of the run).
    public private(set) var config: TrainingConfig
    public let model: any LanguageModel
    let optimizer: AdamW
    let loader: BatchLoader
    /// The teacher when distilling (live), or its cache.
    let teacher: (any LanguageModel)?
    let teacherCache: TeacherCache?
    let validationShard: TokenShard?
    let tokenizerFile: URL?
    var dropout: DropoutSource
    public private(set) var step = 0
    public internal(set) var metrics: [TrainingMetric] = []
    var bestValidationLoss: Float?
    var consecutiveSkips = 0
    let bytesPerToken: Double?
    let start = Date()

    /// Called after every step with the newest metric; return false to stop (a checkpoint is written).
    public var onStep: ((TrainingMetric) -> Bool)?
    /// Read after every step; true stops the run after writing a checkpoint (Ctrl-C by default,
    /// once `InterruptSignal.install()` has run).
    public var stopRequested: () -> Bool = { InterruptSignal.isRaised }
    /// Whether the last `run()` ended before `config.steps` (stopped by `onStep` or a signal).
    public private(set) var stoppedEarly = false

    /// A fresh run.
    public convenience init(config: TrainingConfig, tokenizerFile: URL? = nil) throws {
        try config.validate()
        let model: any LanguageModel
        do { model = try config.model.makeModel(seed: config.seed) } catch let e as ModelError { throw TrainingError(path: e.path, e.message) }
        try self.init(config: config, model: model, state: nil, optimizerState: nil, tokenizerFile: tokenizerFile)
    }

    /// A fresh run that starts from `model`'s weights (a student initialized from a folder);
    /// `config.model` must be its configuration.
    public convenience init(config: TrainingConfig, startingFrom model: any LanguageModel, tokenizerFile: URL? = nil) throws {
        try config.validate()
        guard model.configuration == config.model else {
            throw TrainingError(path: config.out, "the starting model's configuration differs from the run's")
        }
        try self.init(config: config, model: model, state: nil, optimizerState: nil, tokenizerFile: tokenizerFile)
    }

    /// Continues the run whose checkpoint folder is `checkpoint`.
    public static func resume(from checkpoint: URL) throws -> Trainer {
        let stateURL = checkpoint.appendingPathComponent("trainer_state.json")
        let state: TrainerState
        do { state = try metricsDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL)) } catch {
            throw TrainingError(path: stateURL.path, "is missing or not a Lian trainer state (\(error.localizedDescription)); is \(checkpoint.path) a checkpoint folder?")
        }
        let loaded: any LanguageModel
        do { loaded = try HuggingFaceFolder.loadModel(from: checkpoint) } catch let e as ModelError { throw TrainingError(path: e.path, e.message) } catch {
            throw TrainingError(path: checkpoint.path, "cannot load the model: \(error)")
        }
        guard loaded.configuration == state.config.model else {
            throw TrainingError(path: checkpoint.path, "the model in the checkpoint does not match its trainer state's configuration")
        }
        let tokenizer = checkpoint.appendingPathComponent("tokenizer.json")
        return try Trainer(config: state.config, model: loaded, state: state,
                           optimizerState: checkpoint.appendingPathComponent("optimizer.safetensors"),
                           tokenizerFile: FileManager.default.fileExists(atPath: tokenizer.path) ? tokenizer : nil)
    }

    init(config: TrainingConfig, model: any LanguageModel, state: TrainerState?, optimizerState: URL?, tokenizerFile: URL?) throws {
        self.config = config
        self.model = model
        self.tokenizerFile = tokenizerFile
        optimizer = AdamW(beta1: config.beta1, beta2: config.beta2, eps: 1e-8, weightDecay: config.weightDecay)
        let dataDirectory = URL(fileURLWithPath: config.data)
        let train: TokenShard
        do {
            train = try TokenShard(url: dataDirectory.appendingPathComponent("train.bin"))
            let val = dataDirectory.appendingPathComponent("val.bin")
            validationShard = FileManager.default.fileExists(atPath: val.path) ? try TokenShard(url: val) : nil
        } catch let e as DataError { throw TrainingError(path: e.path, e.message) }
        guard train.vocabularySize <= config.model.vocabularySize else {
            throw TrainingError(path: train.path, "was tokenized with a vocabulary of \(train.vocabularySize), larger than the model's \(config.model.vocabularySize)")
        }
        do {
            // A teacher cache holds aligned windows: the loader then draws only those.
            loader = try BatchLoader(shards: [train], batchSize: config.batchSize, context: config.context, seed: config.seed,
                                     stride: config.distillation?.teacherCache != nil ? config.context : 1)
        } catch let e as DataError { throw TrainingError(path: e.path, e.message) }
        dropout = DropoutSource(seed: config.seed ^ 0xD20F)
        (teacher, teacherCache) = try Self.loadTeacher(config, train: train)
        // Bytes per validation token, for bits per byte (needs the tokenizer to know the bytes).
        if let tokenizerFile, let validationShard, let tok = try? LianTokenizerBridge.bytesPerToken(tokenizerFile, validationShard) {
            bytesPerToken = tok
        } else {
            bytesPerToken = nil
        }
        if let state {
            step = state.step
            loader.restore(state.loader)
            dropout.rng = state.dropout
            metrics = state.metrics
            bestValidationLoss = state.bestValidationLoss
            consecutiveSkips = state.consecutiveSkips
            if let optimizerState {
                do { try optimizer.loadState(from: optimizerState, parameters: model.trainableParameters) } catch {
                    throw TrainingError(path: optimizerState.path, "cannot restore the optimizer: \(error)")
                }
            }
        }
    }

    /// Ends the run at `steps` (more than the steps done) instead: the learning-rate schedule's
    /// cosine (or decay) is laid over the new total from here on. `TimeBudget` calls for it at the
    /// end of warmup, when no learning rate so far has depended on the total, so the run is then
    /// exactly the run that had been planned with `steps` from the start.
    public func resize(steps: Int) throws {
        guard steps > step else {
            throw TrainingError(path: config.out, "cannot end the run at step \(steps): \(step) steps are done already")
        }
        var resized = config
        resized.steps = steps
        try resized.validate()
        config = resized
    }

    /// Trains until `config.steps` (or until `onStep` or `stopRequested` says stop), then writes a
    /// final checkpoint and `loss.svg`. Returns the last checkpoint written.
    @discardableResult
    public func run() throws -> URL? {
        var last: URL?
        stoppedEarly = false
        while step < config.steps {
            _ = try trainStep()
            if step % config.evalInterval == 0 || step == config.steps { metrics[metrics.count - 1] = evaluate(into: metrics.last!) }
            try appendMetric(metrics.last!)
            if let onStep, !onStep(metrics.last!) { stoppedEarly = true }
            if stopRequested() { stoppedEarly = true }
            if step % config.checkpointInterval == 0 || step == config.steps || stoppedEarly { last = try saveCheckpoint() }
            if stoppedEarly { break }
        }
        return last
    }

    /// One optimizer step over `config.microBatches` micro-batches. A non-finite loss or gradient,
    /// or a loss spike, skips the update; `maxConsecutiveSkips` in a row stop the run with a diagnosis.
    func trainStep() throws -> TrainingMetric {
        let parameters = model.trainableParameters
        let microBatches = config.microBatches
        model.zeroGrad()
        var lossSum: Float = 0
        for _ in 0..<microBatches {
            let (x, y) = loader.next()
            let ids = IndexTensor(shape: [config.batchSize, config.context], values: x)
            let targets = IndexTensor(shape: [config.batchSize, config.context], values: y)
            let loss = try distillation(ids, targets: targets) ?? model.loss(ids, targets: targets, dropout: dropout)
            lossSum += loss.item
            (microBatches == 1 ? loss : loss.scaled(by: 1 / Float(microBatches))).backward()
        }
        let loss = lossSum / Float(microBatches)
        let learningRate = config.learningRateSchedule.rate(at: step)
        let norm = gradientNorm(parameters)
        var skipReason: String?
        if !loss.isFinite || !norm.isFinite {
            skipReason = "non-finite \(loss.isFinite ? "gradient" : "loss")"
        } else if let z = spikeScore(loss), z > config.lossSpikeZ {
            skipReason = String(format: "loss spike (%.1f standard deviations above the last %d steps)", z, spikeWindow)
        }
        if let skipReason {
            consecutiveSkips += 1
            if consecutiveSkips >= config.maxConsecutiveSkips {
                // The last step goes into the metrics too, so the record shows the whole streak.
                let metric = TrainingMetric(step: step + 1, tokens: (step + 1) * config.tokensPerOptimizerStep, loss: loss, validationLoss: nil,
                                            validationBitsPerByte: nil, learningRate: learningRate, gradientNorm: norm, skipped: true,
                                            skipReason: skipReason, seconds: Date().timeIntervalSince(start))
                metrics.append(metric)
                try? appendMetric(metric)
                throw TrainingError(path: config.out, "\(consecutiveSkips) steps in a row were skipped (last: \(skipReason); loss \(loss), gradient norm \(norm)) at step \(step), learning rate \(learningRate), data batch \(loader.position.batches). The run stops rather than train on: lower learning_rate (or raise warmup_steps), check the data near that position, or resume from the last checkpoint")
            }
        } else {
            consecutiveSkips = 0
            optimizer.step(parameters, learningRate: Double(learningRate),
                           gradientScale: clippingFactor(maxNorm: config.gradientClip, norm: norm))
        }
        model.zeroGrad()
        step += 1
        let metric = TrainingMetric(step: step, tokens: step * config.tokensPerOptimizerStep,
                                    loss: loss, validationLoss: nil, validationBitsPerByte: nil, learningRate: learningRate,
                                    gradientNorm: norm, skipped: skipReason != nil, skipReason: skipReason,
                                    seconds: Date().timeIntervalSince(start))
        metrics.append(metric)
        return metric
    }

    /// Loads the teacher (or opens its cache) when the config distills, checking that it fits.
    static func loadTeacher(_ config: TrainingConfig, train: TokenShard) throws -> ((any LanguageModel)?, TeacherCache?) {
        guard let d = config.distillation else { return (nil, nil) }
        if let path = d.teacherCache {
            let cache = try TeacherCache(url: URL(fileURLWithPath: path))
            guard cache.context == config.context else {
                throw TrainingError(path: path, "was built with context \(cache.context), the run uses \(config.context)")
            }
            guard cache.windows == (train.count - 1) / config.context else {
                throw TrainingError(path: path, "holds \(cache.windows) windows, but \(train.path) has \((train.count - 1) / config.context): it was built for other data")
            }
            return (nil, cache)
        }
        let teacher: any LanguageModel
        do { teacher = try HuggingFaceFolder.loadModel(from: URL(fileURLWithPath: d.teacher)) } catch let e as ModelError {
            throw TrainingError(path: e.path, e.message)
        }
        guard teacher.vocabularySize == config.model.vocabularySize else {
            throw TrainingError(path: d.teacher, "the teacher's vocabulary (\(teacher.vocabularySize)) differs from the student's (\(config.model.vocabularySize)); distillation needs the same tokenizer")
        }
        guard config.context <= teacher.contextLength else {
            throw TrainingError(path: d.teacher, "the teacher's context (\(teacher.contextLength)) is shorter than the run's \(config.context)")
        }
        return (teacher, nil)
    }

    /// The distillation loss for this batch (nil when the run does not distill): teacher
    /// predictions from the cache (for the windows the loader drew) or from the live teacher.
    func distillation(_ ids: IndexTensor, targets: IndexTensor) throws -> Tensor? {
        guard let d = config.distillation else { return nil }
        let predictions: TeacherPredictions
        if let teacherCache {
            var allIDs: [Int32] = [], allLogits: [Float] = []
            for (_, w) in loader.lastWindows {
                let p = try teacherCache.predictions(window: w)
                allIDs += p.ids; allLogits += p.logits
            }
            predictions = TeacherPredictions(ids: allIDs, logits: allLogits, k: teacherCache.k)
        } else {
            predictions = TeacherPredictions.topK(withNoGrad { teacher!(ids) }, k: d.topK)
        }
        let logits = model.forward(ids, collectHiddenStates: false, dropout: dropout).logits
        return Tensor.distillationLoss(student: logits, teacher: predictions, targets: targets, temperature: d.temperature,
                                       alpha: d.alpha, divergence: d.divergence)
    }

    /// Steps whose losses form the reference for spike detection.
    let spikeWindow = 100

    /// How many standard deviations `loss` lies above the mean of the last `spikeWindow` kept
    /// steps; nil until 20 steps are known or with the check off. The deviation has a floor of 1% of
    /// the mean, so that a flat stretch of nearly equal losses does not turn noise into "spikes".
    /// Computed from `metrics`, which checkpoints keep, so a resumed run decides exactly as the
    /// uninterrupted one.
    func spikeScore(_ loss: Float) -> Double? {
        guard config.lossSpikeZ > 0 else { return nil }
        var recent: [Double] = []
        for m in metrics.reversed() where !m.skipped {
            if let l = m.loss { recent.append(Double(l)) }
            if recent.count == spikeWindow { break }
        }
        guard recent.count >= 20 else { return nil }
        let mean = recent.reduce(0, +) / Double(recent.count)
        let variance = recent.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(recent.count - 1)
        let deviation = max(variance.squareRoot(), 0.01 * abs(mean))
        return (Double(loss) - mean) / deviation
    }

    /// Mean validation loss over `evalBatches` fixed batches (the same ones every time).
    func evaluate(into metric: TrainingMetric) -> TrainingMetric {
        guard let validationShard, let val = try? BatchLoader(shards: [validationShard], batchSize: config.batchSize,
                                                                   context: config.context, seed: 1) else { return metric }
        var total: Float = 0
        withNoGrad {
            for _ in 0..<config.evalBatches {
                let (x, y) = val.next()
                total += model.loss(IndexTensor(shape: [config.batchSize, config.context], values: x),
                                    targets: IndexTensor(shape: [config.batchSize, config.context], values: y)).item
            }
        }
        var m = metric
        m.validationLoss = total / Float(config.evalBatches)
        if let bytesPerToken { m.validationBitsPerByte = Double(m.validationLoss!) / log(2) / bytesPerToken }
        return m
    }

    func appendMetric(_ metric: TrainingMetric) throws { try RunFolder.appendMetric(metric, to: config.out) }

    /// Writes out/checkpoint-STEP (model as a Hugging Face folder, tokenizer.json, optimizer
    /// state, trainer state) atomically; keeps the last `keepCheckpoints` and the best by
    /// validation loss; redraws loss.svg.
    @discardableResult
    public func saveCheckpoint() throws -> URL {
        if let v = metrics.last?.validationLoss, bestValidationLoss == nil || v < bestValidationLoss! { bestValidationLoss = v }
        let final = try RunFolder.writeCheckpoint(step: step, out: config.out) { folder in
            try HuggingFaceFolder.save(model, to: folder)
            if let tokenizerFile { try FileManager.default.copyItem(at: tokenizerFile, to: folder.appendingPathComponent("tokenizer.json")) }
            try optimizer.saveState(to: folder.appendingPathComponent("optimizer.safetensors"))
            let state = TrainerState(step: step, loader: loader.position, dropout: dropout.rng, config: config, metrics: metrics,
                                     bestValidationLoss: bestValidationLoss, consecutiveSkips: consecutiveSkips)
            try RunFolder.writeState(state, to: folder.appendingPathComponent("trainer_state.json"))
        }
        try RunFolder.pruneCheckpoints(in: config.out, keep: config.keepCheckpoints, metrics: metrics)
        try LossPlot.run(metrics, title: "\(config.model.modelType) · \(URL(fileURLWithPath: config.out).lastPathComponent) · step \(step)")
            .write(to: URL(fileURLWithPath: config.out).appendingPathComponent("loss.svg"))
        return final
    }
}

/// JSON for metrics and trainer state: a diverging step's NaN or infinite loss is written as the
/// strings "NaN" / "Infinity" (plain JSON has no such numbers), and read back.
func metricsEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return encoder
}

func metricsDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
}
