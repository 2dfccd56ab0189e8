import Foundation
import LianNN
import LianTensor
import Testing

@Suite struct DropoutTests {
    let ids = IndexTensor(shape: [2, 6], values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    let targets = IndexTensor(shape: [2, 6], values: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0])

    func gpt2(dropout p: Float) throws -> GPT2 {
        var config = GPT2Config(vocabSize: 20, contextLength: 8, width: 16, layers: 2, heads: 2)
        config.embeddingDropout = p; config.residualDropout = p; config.attentionDropout = p
        return try GPT2(config, seed: 1)
    }

    @Test func trainingPassesAreSeededEvaluationPassesUntouched() throws {
        for model in [try gpt2(dropout: 0.2) as any LanguageModel,
                      try { var c = LlamaConfig(vocabSize: 20, width: 16, mlpSize: 24, layers: 2, heads: 2, contextLength: 8)
                            c.attentionDropout = 0.2; return try Llama(c, seed: 1) }() as any LanguageModel] {
            let eval1 = model.loss(ids, targets: targets).item
            let train1 = model.loss(ids, targets: targets, dropout: DropoutSource(seed: 3))
            let train2 = model.loss(ids, targets: targets, dropout: DropoutSource(seed: 3)).item
            let train3 = model.loss(ids, targets: targets, dropout: DropoutSource(seed: 4)).item
            #expect(train1.item == train2, "same seed, same pass")
            #expect(train1.item != train3 && train1.item != eval1)
            #expect(model.loss(ids, targets: targets).item == eval1, "evaluation is deterministic and dropout-free")
            train1.backward()
            #expect(model.trainableParameters.allSatisfy { $0.parameter.grad != nil })
        }
    }

    @Test func zeroProbabilityIsTheEvaluationPass() throws {
        let model = try gpt2(dropout: 0)
        #expect(model.loss(ids, targets: targets, dropout: DropoutSource(seed: 3)).item == model.loss(ids, targets: targets).item)
    }

    @Test func transformersDefaultsApplyWhenTheKeysAreAbsent() throws {
        let json = #"{"vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1, "n_head": 2}"#
        let config = try JSONDecoder().decode(GPT2Config.self, from: Data(json.utf8))
        #expect(config.embeddingDropout == 0.1 && config.residualDropout == 0.1 && config.attentionDropout == 0.1)
    }
}
