import ArgumentParser
import LianNN
import LianTraining

/// Named starting points for `lian train --preset`: a model and the batch, context, steps and
/// learning rates that suit it on a 2-core CPU. `tiny` and `small` are GPT-2; `llama-tiny` and
/// `llama-small` are LLaMA models of about the same size (RMSNorm, RoPE, SwiGLU, grouped-query
/// attention with half as many key/value heads).
enum TrainingPresets {
    static let names = ["tiny", "small", "llama-tiny", "llama-small"]

    static func config(_ name: String, vocabularySize: Int = 8192, data: String, out: String) throws -> TrainingConfig {
        var c: TrainingConfig
        switch name {
        case "tiny":
            c = TrainingConfig(model: .gpt2(GPT2Config(vocabSize: vocabularySize, contextLength: 128, width: 128, layers: 4, heads: 4)), data: data, out: out)
            c.batchSize = 16; c.context = 128; c.steps = 1000; c.learningRate = 2e-3; c.minimumLearningRate = 2e-4
        case "small":
            c = TrainingConfig(model: .gpt2(GPT2Config(vocabSize: vocabularySize, contextLength: 256, width: 384, layers: 6, heads: 6)), data: data, out: out)
            c.batchSize = 8; c.context = 256; c.steps = 2000; c.learningRate = 1e-3; c.minimumLearningRate = 1e-4
        case "llama-tiny":
            c = TrainingConfig(model: .llama(LlamaConfig(vocabSize: vocabularySize, width: 128, mlpSize: 344, layers: 4, heads: 4, kvHeads: 2,
                                                         contextLength: 128, tieWordEmbeddings: true)), data: data, out: out)
            c.batchSize = 16; c.context = 128; c.steps = 1000; c.learningRate = 2e-3; c.minimumLearningRate = 2e-4
        case "llama-small":
            c = TrainingConfig(model: .llama(LlamaConfig(vocabSize: vocabularySize, width: 384, mlpSize: 1024, layers: 6, heads: 6, kvHeads: 3,
                                                         contextLength: 256, tieWordEmbeddings: true)), data: data, out: out)
            c.batchSize = 8; c.context = 256; c.steps = 2000; c.learningRate = 1e-3; c.minimumLearningRate = 1e-4
        default:
            throw ValidationError("--preset '\(name)' is unknown; choose one of \(names.joined(separator: ", "))")
        }
        return c
    }
}
