import Foundation
import LianGeneration
import LianKernels
import LianNN
import LianTensor
import LianTokenizer
import Testing

@Suite struct InspectionTests {
    static func tokenizer() throws -> BPETokenizer {
        var trainer = BPETrainer(vocabularySize: 300, preTokenizer: .cjk)
        trainer.count("我今天想去吃火锅。我昨天和我妈吵架了，我心情很不好。 the quick brown fox jumps over the lazy dog")
        return try trainer.train()
    }

    static func models() throws -> [any LanguageModel] {
        [try GPT2(GPT2Config(vocabSize: 300, contextLength: 96, width: 32, layers: 2, heads: 4), seed: 5),
         try Llama(LlamaConfig(vocabSize: 300, width: 32, mlpSize: 48, layers: 2, heads: 4, kvHeads: 2, contextLength: 96), seed: 5)]
    }

    @Test(arguments: [0, 1]) func nextTokenProbabilitiesSumToOneAndAgreeWithGeneration(_ which: Int) throws {
        let tok = try Self.tokenizer(), model = try Self.models()[which]
        let ids = tok.encode("我今天想去吃")
        let d = Inspector.nextToken(model, tokenizer: tok, ids: ids, top: 5)
        #expect(abs(d.probabilities.reduce(0, +) - 1) < 1e-9)
        #expect(d.top.count == 5 && zip(d.top, d.top.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        #expect(d.entropyBits > 0 && d.entropyBits <= log2(Double(tok.vocabularySize)) + 1e-9)
        // The same logits the generator samples from: greedy generation picks the top candidate.
        let logits = withNoGrad { model(IndexTensor(shape: [1, ids.count], values: ids)) }.scalars
        let last = Array(logits[((ids.count - 1) * 300)...])
        for c in d.top { #expect(c.logit == last[Int(c.id)]) }
        let greedy = Generator(model: model, tokenizer: tok).generate(promptIDs: ids, maxTokens: 1, settings: SamplingSettings(temperature: 0, topK: nil, topP: nil, validUTF8: false), seed: 0, stopTokens: [])
        #expect(greedy.first == d.top.first?.id)
        let walk = Inspector.greedyWalk(model, tokenizer: tok, ids: ids, steps: 3, top: 2)
        #expect(walk.count == 3 && walk[1].context.hasPrefix(walk[0].context))
    }

    @Test(arguments: [0, 1]) func attentionRowsSumToOneAndRespectCausality(_ which: Int) throws {
        let tok = try Self.tokenizer(), model = try Self.models()[which]
        let ids = tok.encode("我昨天和我妈吵架了，我心情很不好。")
        let maps = Inspector.attention(model, ids: ids)
        #expect(maps.layers == 2 && maps.heads == 4 && maps.tokens == ids.count)
        for l in 0..<maps.layers {
            for h in 0..<maps.heads {
                for i in 0..<ids.count {
                    let row = Array(maps.row(layer: l, head: h, query: i))
                    #expect(abs(row.reduce(0, +) - 1) < 1e-5)
                    #expect(row[(i + 1)...].allSatisfy { $0 == 0 }, "position \(i) attends to the future")
                }
            }
        }
    }

    @Test func embeddingNeighboursAndPCA() throws {
        let tok = try Self.tokenizer(), model = try Self.models()[0]
        let near = Inspector.nearestTokens(to: "火锅", model: model, tokenizer: tok, top: 5)
        #expect(near.count == 5 && near.allSatisfy { $0.cosine <= 1 + 1e-9 })
        // Points on a line: one direction explains everything.
        let (points, explained) = Inspector.principalComponents([[0, 0, 0], [1, 2, 3], [2, 4, 6], [3, 6, 9]])
        #expect(abs(explained - 1) < 1e-9)
        #expect(abs(abs(points[3].x - points[0].x) - sqrt(9.0 + 36 + 81)) < 1e-6)
    }
}
