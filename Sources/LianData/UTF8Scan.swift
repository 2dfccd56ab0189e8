/// Byte-level scans of UTF-8 text for the pipeline's hot paths. Swift's `String` views are
/// correct but slow per character (grapheme breaking, index bookkeeping); these read the UTF-8
/// bytes once and decode a scalar only where its value matters.
enum UTF8Scan {
    /// The number of Unicode scalars: bytes that do not continue a multi-byte sequence.
    static func scalarCount(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            var n = 0
            var i = 0
            let count = bytes.count
            bytes.withMemoryRebound(to: UInt8.self) { b in
                while i + 16 <= count {
                    let v = UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: SIMD16<UInt8>.self)
                    // A continuation byte is 10xxxxxx.
                    let continuation = (v & 0xC0) .== SIMD16<UInt8>(repeating: 0x80)
                    n += Int(SIMD16<UInt8>(repeating: 1).replacing(with: 0, where: continuation).wrappedSum())
                    i += 16
                }
                while i < count { if b[i] & 0xC0 != 0x80 { n += 1 }; i += 1 }
            }
            return n
        }
    }

    /// Decodes the scalar starting at `i` (a lead byte) in well-formed UTF-8; returns it and its length.
    @inline(__always)
    static func scalar(at i: Int, in b: UnsafeBufferPointer<UInt8>) -> (value: UInt32, length: Int) {
        let b0 = UInt32(b[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F), 3) }
        return ((b0 & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6 | UInt32(b[i + 3] & 0x3F), 4)
    }

    /// Whether every scalar lies in ranges that canonical normalisation (NFC) leaves alone and
    /// that never compose with a neighbour: ASCII and Latin below the combining marks, general
    /// punctuation, CJK symbols, kana (without the combining voice marks), the CJK ideographs,
    /// Hangul syllables and the full-width forms. Text that passes is already NFC, so the
    /// (Foundation) normaliser need not run; anything else goes through it.
    /// Whether every byte is ASCII: 32 bytes a step (the standard library's `allSatisfy` over
    /// the UTF-8 view went a byte at a time, through a call).
    static func isASCII(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { b in
            guard let base = b.baseAddress else { return true }
            let raw = UnsafeRawPointer(base)
            var i = 0, high = SIMD32<UInt8>()
            while i + 32 <= b.count { high |= raw.loadUnaligned(fromByteOffset: i, as: SIMD32<UInt8>.self); i += 32 }
            var tail: UInt8 = 0
            while i < b.count { tail |= b[i]; i += 1 }
            return high.max() & 0x80 == 0 && tail & 0x80 == 0
        }
    }

    static func isTriviallyNFC(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { b in
            var i = 0
            while i < b.count {
                if b[i] < 0x80 { i += 1; continue }
                let (v, length) = scalar(at: i, in: b)
                i += length
                switch v {
                case 0x80..<0x300, 0x2002..<0x2070, 0x3000..<0x302A, 0x3030..<0x3099, 0x309B..<0x3100,
                     0x4E00..<0xA000, 0xAC00..<0xD7A4, 0xFF00..<0xFFF0:
                    continue
                default:
                    return false
                }
            }
            return true
        }
    }

    /// Calls `body` with each line's bytes (without the newline), in order.
    static func forEachLine(_ b: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var start = 0
        while start <= b.count {
            var end = start
            while end < b.count && b[end] != 0x0A { end += 1 }
            body(UnsafeBufferPointer(rebasing: b[start..<end]))
            start = end + 1
        }
    }

    /// FNV-1a of a string's UTF-8 bytes (the same value as `hash(_:)` of those bytes).
    static func hash(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { hash($0) }
    }

    /// FNV-1a of bytes.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return h
    }

    /// The bytes without leading and trailing whitespace (tab and the Unicode space separators,
    /// as Foundation's `.whitespaces`).
    static func trimmingSpaces(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0, end = b.count
        while start < end {
            let (v, length) = scalar(at: start, in: b)
            guard isSpace(v) else { break }
            start += length
        }
        while end > start {
            var lead = end - 1
            while lead > start && b[lead] & 0xC0 == 0x80 { lead -= 1 }
            guard isSpace(scalar(at: lead, in: b).value) else { break }
            end = lead
        }
        return UnsafeBufferPointer(rebasing: b[start..<end])
    }

    /// Tab or a space separator (general category Zs).
    @inline(__always)
    static func isSpace(_ v: UInt32) -> Bool {
        if v < 0x80 { return v == 0x20 || v == 0x09 }
        return v == 0xA0 || v == 0x1680 || (0x2000...0x200A).contains(v) || v == 0x202F || v == 0x205F || v == 0x3000
    }
}
