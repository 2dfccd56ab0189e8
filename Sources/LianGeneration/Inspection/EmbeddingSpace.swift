import Foundation
import LianNN
import LianTensor
import LianTokenizer

/// A token near another in the input embedding.
public struct EmbeddingNeighbour: Codable, Equatable, Sendable {
    public var id: Int32
    public var piece: String
    public var cosine: Double
}

extension Inspector {
    /// The input embedding matrix [V, C] (GPT-2's wte, LLaMA's embed_tokens).
    public static func inputEmbedding(_ model: any LanguageModel) -> Tensor {
        if let m = model as? GPT2 { return m.transformer.wte.weight.value }
        if let m = model as? Llama { return m.model.embedTokens.weight.value }
        preconditionFailure("[inspect] no input embedding for \(type(of: model))")
    }

    /// The vector of `text`: its token's embedding, or the mean of its tokens' embeddings.
    public static func embedding(of text: String, model: any LanguageModel, tokenizer: BPETokenizer) -> (ids: [Int32], vector: [Double]) {
        let ids = tokenizer.encode(text)
        let e = inputEmbedding(model)
        let c = e.shape[1]
        let s = e.scalars
        var v = [Double](repeating: 0, count: c)
        for id in ids { for k in 0..<c { v[k] += Double(s[Int(id) * c + k]) / Double(ids.count) } }
        return (ids, v)
    }

    /// The `top` tokens whose input embeddings have the highest cosine similarity to `text`'s
    /// (the text's own tokens excluded).
    public static func nearestTokens(to text: String, model: any LanguageModel, tokenizer: BPETokenizer, top: Int) -> [EmbeddingNeighbour] {
        let (ids, v) = embedding(of: text, model: model, tokenizer: tokenizer)
        let e = inputEmbedding(model)
        let c = e.shape[1], count = min(e.shape[0], tokenizer.vocabularySize)
        let s = e.scalars
        let norm = sqrt(v.reduce(0) { $0 + $1 * $1 })
        var scored: [(Int, Double)] = []
        for i in 0..<count where !ids.contains(Int32(i)) {
            var dot = 0.0, n = 0.0
            for k in 0..<c { let x = Double(s[i * c + k]); dot += x * v[k]; n += x * x }
            scored.append((i, n > 0 && norm > 0 ? dot / (sqrt(n) * norm) : 0))
        }
        return scored.sorted { $0.1 > $1.1 }.prefix(top).map {
            EmbeddingNeighbour(id: Int32($0.0), piece: piece(tokenizer, Int32($0.0)), cosine: $0.1)
        }
    }

    /// Two-dimensional PCA of the given vectors (centred; the two leading principal directions
    /// by power iteration with deflation). Returns one (x, y) per vector and the share of the
    /// variance the two directions explain.
    public static func principalComponents(_ vectors: [[Double]]) -> (points: [(x: Double, y: Double)], explained: Double) {
        guard let c = vectors.first?.count, vectors.count >= 2 else { return (vectors.map { _ in (0, 0) }, 0) }
        let n = Double(vectors.count)
        let mean = (0..<c).map { k in vectors.reduce(0) { $0 + $1[k] } / n }
        let centred = vectors.map { v in (0..<c).map { v[$0] - mean[$0] } }
        let total = centred.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } }
        var directions: [[Double]] = []
        var explained = 0.0
        for _ in 0..<2 {
            var d = (0..<c).map { Double(($0 * 7919) % 13) - 6 }   // a fixed, generic start
            // Orthogonal to the directions found so far (it stays so even if nothing is left to find).
            for u in directions { let dot = zip(d, u).reduce(0) { $0 + $1.0 * $1.1 }; for k in 0..<c { d[k] -= dot * u[k] } }
            let startNorm = sqrt(d.reduce(0) { $0 + $1 * $1 })
            if startNorm > 0 { d = d.map { $0 / startNorm } }
            for _ in 0..<200 {
                // d ← Xᵀ X d, with earlier directions projected out.
                let projections = centred.map { v in zip(v, d).reduce(0) { $0 + $1.0 * $1.1 } }
                var next = [Double](repeating: 0, count: c)
                for (v, p) in zip(centred, projections) { for k in 0..<c { next[k] += v[k] * p } }
                for u in directions { let dot = zip(next, u).reduce(0) { $0 + $1.0 * $1.1 }; for k in 0..<c { next[k] -= dot * u[k] } }
                let norm = sqrt(next.reduce(0) { $0 + $1 * $1 })
                guard norm > 1e-12 else { break }
                d = next.map { $0 / norm }
            }
            directions.append(d)
            explained += centred.reduce(0) { s, v in let p = zip(v, d).reduce(0) { $0 + $1.0 * $1.1 }; return s + p * p }
        }
        let points = centred.map { v in
            (x: zip(v, directions[0]).reduce(0) { $0 + $1.0 * $1.1 }, y: zip(v, directions[1]).reduce(0) { $0 + $1.0 * $1.1 })
        }
        return (points, total > 0 ? explained / total : 0)
    }
}
