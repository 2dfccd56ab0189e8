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
        let one = try secondsPerStep(config.withLayers(1), method: method, lora: lora, batch: batch, context: context)
        guard config.layers > 1 else { return one }
        let k = min(config.layers, 4)
        let more = try secondsPerStep(config.withLayers(k), method: method, lora: lora, batch: batch, context: context)
        return one + Double(config.layers - 1) * max(0, more - one) / Double(k - 1)
    }

    /// The best of five timed steps after two warm-up steps (random tokens).
    static func secondsPerStep(_ config: ModelConfiguration, method: TrainingPlan.Method, lora: LoRAConfig, batch: Int, context: Int) throws -> Double {
        try SyntheticTrainingStep(config: config, method: method, lora: lora, batch: batch, context: context).bestSeconds(runs: 5)
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
