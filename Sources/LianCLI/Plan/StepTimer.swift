import Foundation
import LianNN
import LianTraining

/// Times training steps of the planned model cut to one and to k = min(L, 4) layers (same width,
/// heads, vocabulary, batch and context, same method), and extrapolates to all its layers:
///     t(L) ≈ t(1) + (L − 1) · (t(k) − t(1)) / (k − 1)
/// — every per-layer cost (products, norms, attention, the optimizer on a layer's weights) and
/// every fixed one (embeddings, the head and loss) measured on this machine, in a few seconds.
enum StepTimer {
    static func extrapolated(config: ModelConfiguration, method: TrainingPlan.Method, lora: LoRAConfig, batch: Int, context: Int) throws -> Double {
        try timed(config: config, method: method, lora: lora, batch: batch, context: context, alsoFullModel: false).extrapolated
    }

    /// The extrapolation, and with `alsoFullModel` the best step of the planned model itself
    /// (`lian plan --check`). Steps of the models alternate, so that the machine's drift (±30%
    /// within a minute here) reaches each alike; each keeps its best step.
    static func timed(config: ModelConfiguration, method: TrainingPlan.Method, lora: LoRAConfig, batch: Int, context: Int,
                      alsoFullModel: Bool) throws -> (extrapolated: Double, fullModel: Double?) {
        let k = min(config.layers, max(4, (config.layers + 1) / 2))
        var models = [try SyntheticTrainingStep(config: config.withLayers(1), method: method, lora: lora, batch: batch, context: context)]
        if k > 1 { models.append(try SyntheticTrainingStep(config: config.withLayers(k), method: method, lora: lora, batch: batch, context: context)) }
        if alsoFullModel { models.append(try SyntheticTrainingStep(config: config, method: method, lora: lora, batch: batch, context: context)) }
        for model in models { model.step(); model.step() }
        var best = [Double](repeating: .infinity, count: models.count)
        for _ in 0..<6 {
            for (i, model) in models.enumerated() {
                let start = Stopwatch.now()
                model.step()
                best[i] = min(best[i], Stopwatch.now() - start)
            }
        }
        let extrapolated = k > 1 ? best[0] + Double(config.layers - 1) * max(0, best[1] - best[0]) / Double(k - 1) : best[0]
        return (extrapolated, alsoFullModel ? best.last : nil)
    }
}

extension ModelConfiguration {
    /// The same model with `layers` decoder layers.
    func withLayers(_ layers: Int) -> ModelConfiguration {
        switch self {
        case .gpt2(var c): c.layers = layers; return .gpt2(c)
        case .llama(var c): c.layers = layers; return .llama(c)
        }
    }
}
