import Foundation
import LianNN
import Testing

@Suite struct ModelConfigurationTests {
    static let cases: [ModelConfiguration] = [
        .gpt2(GPT2Config(vocabSize: 50, contextLength: 16, width: 24, layers: 2, heads: 3)),
        .gpt2(GPT2Config(vocabSize: 50, contextLength: 16, width: 24, layers: 2, heads: 3, innerSize: 40, tieWordEmbeddings: false)),
        .llama(LlamaConfig(vocabSize: 50, width: 32, mlpSize: 48, layers: 2, heads: 4, kvHeads: 2, contextLength: 16)),
        .llama(LlamaConfig(vocabSize: 50, width: 32, mlpSize: 48, layers: 3, heads: 4, headSize: 12, contextLength: 16, tieWordEmbeddings: true)),
    ]

    @Test(arguments: 0..<4) func countedParametersEqualTheBuiltModel(_ i: Int) throws {
        let configuration = Self.cases[i]
        let model = try configuration.makeModel(seed: 1)
        #expect(configuration.parameterCount == model.parameterCount)
        #expect(model.configuration == configuration)
    }

    @Test(arguments: 0..<4) func jsonRoundTripKeepsTheArchitecture(_ i: Int) throws {
        let configuration = Self.cases[i]
        let data = try JSONEncoder().encode(configuration)
        #expect(try JSONDecoder().decode(ModelConfiguration.self, from: data) == configuration)
    }

    @Test func modelTypeSelectsTheArchitecture() throws {
        let llama = #"{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}"#
        #expect(try JSONDecoder().decode(ModelConfiguration.self, from: Data(llama.utf8)).modelType == "llama")
        let gpt2 = #"{"vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2}"#
        #expect(try JSONDecoder().decode(ModelConfiguration.self, from: Data(gpt2.utf8)).modelType == "gpt2")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelConfiguration.self, from: Data(#"{"model_type": "bert"}"#.utf8)) }
    }

    @Test func flopsFollowThePaLMConvention() {
        // GPT-2 124M: 6·N + 12·L·T·C with N the matmul weights (the head included), T = 1024.
        let c = ModelConfiguration.gpt2(GPT2Config(vocabSize: 50257, contextLength: 1024, width: 768, layers: 12, heads: 12))
        let n = Double(12 * 12 * 768 * 768 + 50257 * 768)
        #expect(c.trainingFLOPsPerToken(context: 1024) == 6 * n + 12 * 12 * 1024 * 768)
    }
}
