import LianNN

/// The GPT-2-architecture shapes `lian bench train-step` measures (fp32), the same as
/// Scripts/bench/torch_train_step.py uses for the PyTorch peer.
struct TrainStepPreset {
    let name: String
    let config: GPT2Config
    let batch: Int
    let context: Int

    static let all: [TrainStepPreset] = [
        TrainStepPreset(name: "tiny", config: GPT2Config(vocabSize: 512, contextLength: 128, width: 128, layers: 4, heads: 4),
                        batch: 16, context: 128),
        TrainStepPreset(name: "small", config: GPT2Config(vocabSize: 4096, contextLength: 256, width: 384, layers: 6, heads: 6),
                        batch: 8, context: 256),
        TrainStepPreset(name: "gpt2-124m", config: GPT2Config(vocabSize: 50257, contextLength: 1024, width: 768, layers: 12, heads: 12),
                        batch: 4, context: 64),
    ]

    static func named(_ name: String) -> TrainStepPreset? { all.first { $0.name == name } }

    /// Forward + backward FLOPs per token: 6 per parameter (matmuls) plus the attention scores and
    /// weighted sums, 12·layers·width·context (as llm.c and the PaLM appendix count them).
    func flopsPerToken(parameters: Int) -> Double {
        6 * Double(parameters) + 12 * Double(config.layers * config.width * context)
    }
}
