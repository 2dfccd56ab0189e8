/// Keeps sampled text valid UTF-8: a byte-level model can put probability on a token whose bytes
/// cannot follow the bytes so far (a continuation byte with no character open, a new character
/// inside an unfinished one, an overlong or surrogate form). Those tokens are masked before
/// sampling, so what is generated always decodes without U+FFFD.
///
/// From a clean boundary the disallowed tokens are always the same (computed once); inside an
/// unfinished character every token is checked against the open bytes (a few bytes each).
struct UTF8Constraint {
    let tokenBytes: [[UInt8]]
    let disallowedAtBoundary: [Int]
    /// Bytes of the character still open at the end of the text (0–3 bytes).
    private(set) var open: [UInt8] = []

    init(tokenBytes: [[UInt8]]) {
        self.tokenBytes = tokenBytes
        disallowedAtBoundary = tokenBytes.indices.filter { Self.openTail(after: [], tokenBytes[$0]) == nil }
    }

    /// Sets the logits of tokens that cannot come next to −∞.
    func mask(_ logits: inout [Float]) {
        if open.isEmpty {
            for id in disallowedAtBoundary where id < logits.count { logits[id] = -.infinity }
        } else {
            for id in 0..<min(logits.count, tokenBytes.count) where Self.openTail(after: open, tokenBytes[id]) == nil {
                logits[id] = -.infinity
            }
        }
    }

    mutating func accept(_ id: Int32) {
        open = Self.openTail(after: open, tokenBytes[Int(id)]) ?? []
    }

    /// Validates `prefix + bytes` as UTF-8 that may end inside a character; returns the bytes of
    /// that unfinished character (empty at a boundary), or nil when the bytes are invalid.
    static func openTail(after prefix: [UInt8], _ bytes: [UInt8]) -> [UInt8]? {
        if bytes.isEmpty { return prefix.isEmpty ? [] : nil }
        var need = 0                     // continuation bytes still expected
        var low: UInt8 = 0x80, high: UInt8 = 0xBF   // allowed range of the next continuation byte
        var start = 0                    // index (in prefix + bytes) where the open character began
        var index = 0
        for sequence in [prefix, bytes] {
            for b in sequence {
                defer { index += 1 }
                if need > 0 {
                    guard b >= low && b <= high else { return nil }
                    need -= 1; low = 0x80; high = 0xBF
                    continue
                }
                start = index
                switch b {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; low = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: need = 2
                case 0xED: need = 2; high = 0x9F          // no surrogates
                case 0xF0: need = 3; low = 0x90           // no overlong forms
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; high = 0x8F          // nothing above U+10FFFF
                default: return nil                       // 0x80–0xC1 as a lead, 0xF5–0xFF
                }
            }
        }
        guard need > 0 else { return [] }
        return Array((prefix + bytes)[start...])
    }
}
