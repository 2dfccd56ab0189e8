import Foundation
import LianTokenizer

/// How well a tokenizer compresses a text: bytes and characters per token overall and per
/// script (a token counts for the script of its first character), and how many tokens are single
/// bytes (the fallback for text the vocabulary does not cover).
struct TokenizerStatistics {
    struct Line { var bytes = 0, characters = 0, tokens = 0 }
    var lines: [String: Line] = [:]
    var total = Line()
    var singleByteTokens = 0

    init(tokenizer: BPETokenizer, text: String) {
        for chunk in tokenizer.preTokenizer.split(text) {
            let ids = tokenizer.encode(String(chunk))
            let script = Self.script(of: chunk.unicodeScalars.first)
            lines[script, default: Line()].bytes += chunk.utf8.count
            lines[script, default: Line()].characters += chunk.unicodeScalars.count
            lines[script, default: Line()].tokens += ids.count
            singleByteTokens += ids.filter { tokenizer.decodeBytes([$0]).count == 1 }.count
        }
        for (_, l) in lines { total.bytes += l.bytes; total.characters += l.characters; total.tokens += l.tokens }
    }

    static func script(of scalar: Unicode.Scalar?) -> String {
        guard let s = scalar else { return "other" }
        let v = s.value
        if (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x3134F).contains(v) || (0xF900...0xFAFF).contains(v) {
            return "Han"
        }
        if s.properties.isAlphabetic && (v < 0x250 || (0x1E00...0x1EFF).contains(v)) { return "Latin" }
        return "other"
    }

    func report() -> String {
        func row(_ name: String, _ l: Line) -> String {
            String(format: "%-7@ %10d %10d %9d %8.3f %8.3f", name as NSString, l.bytes, l.characters, l.tokens,
                   Double(l.bytes) / Double(max(1, l.tokens)), Double(l.characters) / Double(max(1, l.tokens)))
        }
        var out = ["script       bytes      chars    tokens  bytes/t  chars/t"]
        for name in ["Han", "Latin", "other"] where lines[name] != nil { out.append(row(name, lines[name]!)) }
        out.append(row("all", total))
        out.append(String(format: "single-byte tokens: %d of %d (%.1f%%)", singleByteTokens, total.tokens,
                          100 * Double(singleByteTokens) / Double(max(1, total.tokens))))
        return out.joined(separator: "\n")
    }
}
