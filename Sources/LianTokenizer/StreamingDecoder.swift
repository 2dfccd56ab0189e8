/// Turns ids into text as they arrive (generation), never emitting a broken UTF-8 sequence: bytes
/// of a character split across tokens are held back until the character is complete.
///
/// ```
/// let stream = StreamingDecoder(tokenizer)
/// for id in generated { print(stream.add(id), terminator: "") }
/// print(stream.finish())
/// ```
public final class StreamingDecoder {
    let tokenizer: BPETokenizer
    private var pending: [UInt8] = []

    public init(_ tokenizer: BPETokenizer) { self.tokenizer = tokenizer }

    /// The text completed by this id (possibly empty).
    public func add(_ id: Int32) -> String {
        pending += tokenizer.decodeBytes([id])
        let complete = Self.completePrefixLength(pending)
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is left (an incomplete character becomes U+FFFD).
    public func finish() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of the longest prefix that does not end inside a multi-byte character. Invalid
    /// bytes are not held back (they decode to U+FFFD now).
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        // Look back over at most 3 bytes for the start of the last character.
        var i = bytes.count - 1
        var continuation = 0
        while i >= 0 && continuation < 3 && bytes[i] & 0xC0 == 0x80 { continuation += 1; i -= 1 }
        guard i >= 0 else { return bytes.count }
        let lead = bytes[i]
        let needed: Int
        if lead & 0xE0 == 0xC0 { needed = 1 } else if lead & 0xF0 == 0xE0 { needed = 2 } else if lead & 0xF8 == 0xF0 { needed = 3 } else { return bytes.count }
        return continuation < needed ? i : bytes.count
    }
}
