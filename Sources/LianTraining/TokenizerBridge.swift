import Foundation
import LianData
import LianTokenizer

/// What training needs from the tokenizer: bytes per token of the validation text (for bits per
/// byte, which compares models with different tokenizers).
enum LianTokenizerBridge {
    static func bytesPerToken(_ tokenizerFile: URL, _ shard: TokenShard) throws -> Double {
        let tokenizer = try BPETokenizer(contentsOf: tokenizerFile)
        var bytes = 0, tokens = 0
        for i in 0..<shard.count {
            let id = shard[i]
            if tokenizer.specialTokens.values.contains(id) { continue }
            bytes += tokenizer.model.tokenBytes[Int(id)].count
            tokens += 1
        }
        return Double(bytes) / Double(max(1, tokens))
    }
}
