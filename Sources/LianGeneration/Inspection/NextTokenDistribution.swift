import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTokenizer

/// One candidate for the next token.
public struct TokenCandidate: Codable, Equatable, Sendable {
    public var id: Int32
    /// The token's text (bytes that are not valid UTF-8 on their own shown as <0xNN>).
    public var piece: String
    public var probability: Double
    public var logit: Float
}

/// The model's distribution over the next token after some text.
public struct NextTokenDistribution: Codable, Equatable, Sendable {
    /// The context the distribution follows (the prompt plus any greedy steps before it).
    public var context: String
    /// Shannon entropy in bits: 0 when the model is certain, log2(V) when it has no idea.
    public var entropyBits: Double
    /// The most likely candidates, most likely first.
    public var top: [TokenCandidate]
    /// Probabilities of the whole vocabulary (not written to JSON).
    public var probabilities: [Double] = []

    enum CodingKeys: String, CodingKey { case context, entropyBits = "entropy_bits", top }
}

/// Looking inside a language model: next-token probabilities, attention maps, embedding
/// neighbours. Every function runs an evaluation pass (no dropout, no gradients).
public enum Inspector {
    /// Next-token logits after `ids` (the last `contextLength` of them), cut to the tokenizer's
    /// vocabulary (a model may carry padding rows beyond it).
    public static func nextTokenLogits(_ model: any LanguageModel, ids: [Int32], vocabulary: Int) -> [Float] {
        let window = Array(ids.suffix(model.contextLength))
        let logits = withNoGrad { model(IndexTensor(shape: [1, window.count], values: window)) }
        let v = logits.shape[2]
        return Array(logits.scalars[((window.count - 1) * v)..<((window.count - 1) * v + min(v, vocabulary))])
    }

    /// Softmax in Double (so the probabilities sum to 1 to ~1e-12).
    public static func softmax(_ logits: [Float]) -> [Double] {
        let m = Double(logits.max() ?? 0)
        let e = logits.map { exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// The distribution after `ids`, with its `top` candidates and entropy.
    public static func nextToken(_ model: any LanguageModel, tokenizer: BPETokenizer, ids: [Int32], top: Int) -> NextTokenDistribution {
        let logits = nextTokenLogits(model, ids: ids, vocabulary: tokenizer.vocabularySize)
        let p = softmax(logits)
        let entropy = -p.reduce(0) { $0 + ($1 > 0 ? $1 * log2($1) : 0) }
        let order = p.indices.sorted { p[$0] > p[$1] }.prefix(max(0, top))
        let candidates = order.map { i in
            TokenCandidate(id: Int32(i), piece: piece(tokenizer, Int32(i)), probability: p[i], logit: logits[i])
        }
        return NextTokenDistribution(context: tokenizer.decode(ids), entropyBits: entropy, top: candidates, probabilities: p)
    }

    /// The distribution at each of `steps` greedy steps after `ids` (the most likely token is
    /// appended each time).
    public static func greedyWalk(_ model: any LanguageModel, tokenizer: BPETokenizer, ids: [Int32], steps: Int, top: Int) -> [NextTokenDistribution] {
        var ids = ids
        var result: [NextTokenDistribution] = []
        for _ in 0..<max(1, steps) {
            let d = nextToken(model, tokenizer: tokenizer, ids: ids, top: top)
            result.append(d)
            guard let best = d.top.first else { break }
            ids.append(best.id)
        }
        return result
    }

    /// A token's text for display: its bytes as UTF-8, or <0xNN> escapes for bytes that are not
    /// a whole character; special tokens as themselves.
    public static func piece(_ tokenizer: BPETokenizer, _ id: Int32) -> String {
        let bytes = tokenizer.decodeBytes([id])
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return bytes.map { String(format: "<0x%02X>", $0) }.joined()
    }
}
