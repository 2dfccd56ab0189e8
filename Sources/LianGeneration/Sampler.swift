import Foundation
import LianKernels

/// How the next token is chosen from logits: temperature, top-k, top-p (nucleus) and a repetition
/// penalty (as transformers applies it: positive logits of seen tokens divided by the penalty,
/// negative ones multiplied). Temperature 0 is greedy (argmax).
public struct SamplingSettings: Sendable, Equatable {
    public var temperature: Float = 0.8
    public var topK: Int? = 50
    public var topP: Float? = 0.95
    public var repetitionPenalty: Float = 1.0
    /// Mask tokens that would make the text invalid UTF-8 (see `UTF8Constraint`); on by default.
    public var validUTF8 = true

    public init(temperature: Float = 0.8, topK: Int? = 50, topP: Float? = 0.95, repetitionPenalty: Float = 1.0, validUTF8: Bool = true) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.repetitionPenalty = repetitionPenalty
        self.validUTF8 = validUTF8
    }

    public static let greedy = SamplingSettings(temperature: 0, topK: nil, topP: nil)
}

public enum Sampler {
    /// The next token id for one row of logits.
    public static func sample(_ logits: [Float], settings s: SamplingSettings, previous: [Int32], rng: inout SeededRandom) -> Int32 {
        var l = logits
        if s.repetitionPenalty != 1 {
            for id in Set(previous) where Int(id) < l.count {
                l[Int(id)] = l[Int(id)] > 0 ? l[Int(id)] / s.repetitionPenalty : l[Int(id)] * s.repetitionPenalty
            }
        }
        if s.temperature <= 0 {
            var best = 0
            for i in 1..<l.count where l[i] > l[best] { best = i }
            return Int32(best)
        }
        // Candidates sorted by logit, cut to top-k, softmax at the temperature, cut to top-p.
        var order = Array(0..<l.count)
        order.sort { l[$0] > l[$1] }
        if let k = s.topK, k > 0 { order = Array(order.prefix(k)) }
        let maxLogit = l[order[0]]
        var probabilities = order.map { Double(exp((l[$0] - maxLogit) / s.temperature)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        if let p = s.topP, p < 1 {
            var cumulative = 0.0, keep = 0
            for q in probabilities { cumulative += q; keep += 1; if cumulative >= Double(p) { break } }
            order = Array(order.prefix(keep)); probabilities = Array(probabilities.prefix(keep))
            let t = probabilities.reduce(0, +)
            probabilities = probabilities.map { $0 / t }
        }
        var u = Double(rng.nextUniform())
        for (id, q) in zip(order, probabilities) {
            u -= q
            if u < 0 { return Int32(id) }
        }
        return Int32(order.last!)
    }
}
