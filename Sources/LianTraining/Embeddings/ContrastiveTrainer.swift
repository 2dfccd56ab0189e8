import Foundation
import LianKernels
import LianNN
import LianOptim
import LianTensor
import LianTokenizer

/// A (query, positive) pair: texts that should embed close together.
public struct TextPair: Equatable, Sendable {
    public var query: String, positive: String
    public init(query: String, positive: String) { self.query = query; self.positive = positive }

    /// JSONL lines {"query": ..., "positive": ...}; a bad line throws an error naming file:line.
    public static func read(_ url: URL) throws -> [TextPair] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TrainingError(path: url.path, "cannot read as UTF-8 text (\(error.localizedDescription))")
        }
        var pairs: [TextPair] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let q = o["query"] as? String, let p = o["positive"] as? String else {
                throw TrainingError(path: "\(url.path):\(i + 1)", "needs a JSON object with string 'query' and 'positive'")
            }
            pairs.append(TextPair(query: q, positive: p))
        }
        guard pairs.count >= 2 else { throw TrainingError(path: url.path, "holds \(pairs.count) pair(s); contrastive training needs at least 2") }
        return pairs
    }
}

/// Fine-tunes a model into an embedding model with the InfoNCE loss over in-batch negatives:
/// for B pairs, S = Q·Pᵀ / τ (normalized embeddings) and the loss is the mean of the
/// cross-entropies of S's rows and columns against the diagonal — each query must pick its own
/// positive among the batch's, and each positive its own query. Seeded; all weights train, or
/// LoRA adapters only.
public final class ContrastiveTrainer {
    public let encoder: SentenceEncoder
    public let temperature: Float
    let optimizer: AdamW
    var rng: SeededRandom

    public init(encoder: SentenceEncoder, temperature: Float = 0.05, weightDecay: Double = 0.0, seed: UInt64 = 1) {
        self.encoder = encoder; self.temperature = temperature
        optimizer = AdamW(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: weightDecay)
        rng = SeededRandom(seed: seed)
    }

    /// The InfoNCE loss of one batch of pairs.
    public func loss(_ batch: [TextPair]) -> Tensor {
        let q = Tensor.concatenate(batch.map { encoder.embed($0.query) }, axis: 0)       // [B, C]
        let p = Tensor.concatenate(batch.map { encoder.embed($0.positive) }, axis: 0)    // [B, C]
        let s = q.matmul(p.transposed(0, 1)) * (1 / temperature)                            // [B, B]
        let diagonal = IndexTensor(shape: [batch.count], values: (0..<batch.count).map { Int32($0) })
        return (Tensor.crossEntropy(logits: s, targets: diagonal) + Tensor.crossEntropy(logits: s.transposed(0, 1), targets: diagonal)) * 0.5
    }

    /// One optimizer step on `batchSize` pairs drawn from `pairs`; returns the loss.
    @discardableResult
    public func step(_ pairs: [TextPair], batchSize: Int, learningRate: Double) -> Float {
        var chosen = Set<Int>()
        while chosen.count < min(batchSize, pairs.count) { chosen.insert(Int(rng.next() % UInt64(pairs.count))) }
        let batch = chosen.sorted().map { pairs[$0] }
        let parameters = encoder.model.trainableParameters
        encoder.model.zeroGrad()
        let l = loss(batch)
        l.backward()
        optimizer.step(parameters, learningRate: learningRate, gradientScale: clippingFactor(parameters, maxNorm: 1))
        encoder.model.zeroGrad()
        return l.item
    }
}
