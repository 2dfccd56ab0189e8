import LianKernels
import LianNN
import LianOptim
import LianTensor
import LianTraining

/// A training step on fixed random tokens for measuring speed and memory: the model built from a
/// configuration, prepared for a method (LoRA adapters, an NF4 base for QLoRA), AdamW with clipping.
/// Used by `lian bench finetune` and by `lian plan`'s timed steps.
final class SyntheticTrainingStep {
    let model: any LanguageModel
    let ids: IndexTensor, targets: IndexTensor
    let optimizer = AdamW(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)

    init(config: ModelConfiguration, method: TrainingPlan.Method, lora: LoRAConfig, batch: Int, context: Int) throws {
        model = try config.makeModel(seed: 1)
        if method == .qlora { model.quantizeLinearLayers() }
        if method != .full { try model.attachLoRA(lora, seed: 2) }
        var rng = SeededRandom(seed: 3)
        let tokens = (0...(batch * context)).map { _ in Int32(rng.next() % UInt64(config.vocabularySize)) }
        ids = IndexTensor(shape: [batch, context], values: Array(tokens.dropLast()))
        targets = IndexTensor(shape: [batch, context], values: Array(tokens.dropFirst()))
    }

    func step() {
        let parameters = model.trainableParameters
        model.zeroGrad()
        model.loss(ids, targets: targets).backward()
        optimizer.step(parameters, learningRate: 1e-4, gradientScale: clippingFactor(parameters, maxNorm: 1))
    }

    /// Two warm-up steps, then the best of `runs` timed steps (the least disturbed).
    func bestSeconds(runs: Int) -> Double {
        step(); step()
        var best = Double.infinity
        for _ in 0..<runs {
            let start = Stopwatch.now()
            step()
            best = min(best, Stopwatch.now() - start)
        }
        return best
    }
}
