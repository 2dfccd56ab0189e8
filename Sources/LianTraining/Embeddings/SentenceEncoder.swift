import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTokenizer

/// Turns a language model into a sentence-embedding model: a text's vector is its final hidden
/// states (after the last norm) pooled — mean over tokens, or the last token — and L2-normalized,
/// so the dot product of two vectors is their cosine similarity.
public struct SentenceEncoder {
    public enum Pooling: String, Codable, Sendable, CaseIterable { case mean, last }

    public let model: any LanguageModel
    public let tokenizer: BPETokenizer
    public let pooling: Pooling

    public init(model: any LanguageModel, tokenizer: BPETokenizer, pooling: Pooling = .mean) {
        self.model = model; self.tokenizer = tokenizer; self.pooling = pooling
    }

    public var width: Int { model.configuration.width }

    /// The ids of `text`, cut to the model's context (an empty text becomes end-of-text).
    func ids(_ text: String) -> [Int32] {
        var ids = Array(tokenizer.encode(text).prefix(model.contextLength))
        if ids.isEmpty { ids = [tokenizer.specialTokens["<|endoftext|>"] ?? 0] }
        return ids
    }

    /// The normalized embedding [1, C] of one text, with autograd (for training).
    public func embed(_ text: String, dropout: DropoutSource? = nil) -> Tensor {
        let ids = ids(text)
        let h = model.features(IndexTensor(shape: [1, ids.count], values: ids), collectHiddenStates: false, dropout: dropout).final  // [1, T, C]
        let pooled = pooling == .mean ? h.mean(axis: 1) : h.slice(axis: 1, (ids.count - 1)..<ids.count).reshaped(to: [1, width])
        // x / ‖x‖ as RMSNorm / √C: RMSNorm divides by √(mean x²) = ‖x‖/√C.
        return pooled.rmsNorm(weight: Tensor.ones([width]), eps: 1e-12) * (1 / Float(width).squareRoot())
    }

    /// Normalized embeddings of many texts (no gradients), [texts][C].
    public func encode(_ texts: [String]) -> [[Float]] {
        withNoGrad { texts.map { embed($0).scalars } }
    }
}

/// Nearest neighbours by cosine similarity among normalized vectors.
public enum VectorSearch {
    public static func nearest(_ query: [Float], in vectors: [[Float]], top: Int) -> [(index: Int, score: Float)] {
        let scored = vectors.enumerated().map { i, v in (i, zip(query, v).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
        return Array(scored.sorted { $0.1 > $1.1 }.prefix(top)).map { (index: $0.0, score: $0.1) }
    }

    /// The share of queries whose nearest positive is their own (row i ↔ row i).
    public static func recallAt1(queries: [[Float]], positives: [[Float]]) -> Double {
        guard !queries.isEmpty else { return 0 }
        let hits = queries.enumerated().filter { i, q in nearest(q, in: positives, top: 1).first?.index == i }.count
        return Double(hits) / Double(queries.count)
    }
}
