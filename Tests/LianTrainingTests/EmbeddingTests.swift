import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTokenizer
import LianTraining
import Testing

@Suite struct EmbeddingTests {
    static func setup() throws -> (SentenceEncoder, [TextPair]) {
        let words = ["apple", "river", "stone", "cloud", "tiger", "violin", "garden", "winter", "copper", "forest", "candle", "harbor"]
        let pairs = words.enumerated().map { i, w in TextPair(query: "where is the \(w)?", positive: "a \(w) is here, number \(i)") }
        var trainer = BPETrainer(vocabularySize: 300, preTokenizer: .gpt2)
        for p in pairs { trainer.count(p.query + " " + p.positive) }
        let tok = try trainer.train()
        let model = try GPT2(GPT2Config(vocabSize: 300, contextLength: 32, width: 32, layers: 2, heads: 4), seed: 2)
        return (SentenceEncoder(model: model, tokenizer: tok), pairs)
    }

    @Test func embeddingsAreUnitVectors() throws {
        let (encoder, pairs) = try Self.setup()
        for pooling in SentenceEncoder.Pooling.allCases {
            let e = SentenceEncoder(model: encoder.model, tokenizer: encoder.tokenizer, pooling: pooling)
            for v in e.encode(pairs.prefix(3).map(\.query)) {
                #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4, "\(pooling)")
            }
        }
    }

    @Test func contrastiveTrainingPullsPairsTogether() throws {
        let (encoder, pairs) = try Self.setup()
        let before = VectorSearch.recallAt1(queries: encoder.encode(pairs.map(\.query)), positives: encoder.encode(pairs.map(\.positive)))
        let trainer = ContrastiveTrainer(encoder: encoder, temperature: 0.1, seed: 3)
        let first = withNoGrad { trainer.loss(pairs).item }
        for _ in 0..<40 { trainer.step(pairs, batchSize: 12, learningRate: 3e-3) }
        let last = withNoGrad { trainer.loss(pairs).item }
        let after = VectorSearch.recallAt1(queries: encoder.encode(pairs.map(\.query)), positives: encoder.encode(pairs.map(\.positive)))
        #expect(last < first * 0.5, "InfoNCE \(first) → \(last)")
        #expect(after > before && after >= 0.9, "recall@1 \(before) → \(after)")
    }
}
