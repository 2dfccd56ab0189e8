/// Reads one string field of a JSON object from a line of bytes without building the object:
/// the pipeline reads millions of lines for one field each, and a general JSON parser
/// (Foundation's) spent more time than cleaning the text did.
///
/// It validates the whole line as JSON (an object, values of any kind) and decodes only the
/// wanted field's string. Invalid UTF-8 becomes U+FFFD, as when the file is decoded as text.
enum JSONLine {
    enum Field: Equatable {
        case string(String)
        /// The key is present with a value that is not a string.
        case otherValue
        case missing
    }

    /// The value of `key` in the object on `line`, or nil when the line is not one JSON object.
    static func field(_ key: String, in line: UnsafeBufferPointer<UInt8>) -> Field? {
        var p = Parser(bytes: line)
        let wanted = Array(key.utf8)
        var found = Field.missing
        p.skipSpace()
        guard p.consume(UInt8(ascii: "{")) else { return nil }
        p.skipSpace()
        if !p.consume(UInt8(ascii: "}")) {
            while true {
                p.skipSpace()
                guard p.peek == UInt8(ascii: "\""), let name = p.stringBytes() else { return nil }
                p.skipSpace()
                guard p.consume(UInt8(ascii: ":")) else { return nil }
                p.skipSpace()
                if name == wanted, found == .missing {
                    if p.peek == UInt8(ascii: "\"") {
                        guard let value = p.stringBytes() else { return nil }
                        found = .string(String(decoding: value, as: UTF8.self))
                    } else {
                        guard p.skipValue() else { return nil }
                        found = .otherValue
                    }
                } else {
                    guard p.skipValue() else { return nil }
                }
                p.skipSpace()
                if p.consume(UInt8(ascii: ",")) { continue }
                guard p.consume(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        p.skipSpace()
        return p.atEnd ? found : nil
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        var atEnd: Bool { i >= bytes.count }
        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func consume(_ b: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        /// A string at `i` (which holds the opening quote), unescaped, as UTF-8 bytes.
        mutating func stringBytes() -> [UInt8]? {
            i += 1
            var out: [UInt8] = []
            var runStart = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                    i += 1
                    return out
                }
                if b < 0x20 { return nil }                       // raw control characters are not JSON
                if b != UInt8(ascii: "\\") { i += 1; continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                i += 1
                guard i < bytes.count else { return nil }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code) {
                        // A high surrogate: a low one must follow to make one scalar.
                        let save = i
                        if consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            i = save
                            code = 0xFFFD
                        }
                    } else if (0xDC00..<0xE000).contains(code) {
                        code = 0xFFFD
                    }
                    out.append(contentsOf: Unicode.Scalar(code).map { Array(String($0).utf8) } ?? [0xEF, 0xBF, 0xBD])
                default: return nil
                }
                runStart = i
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: return nil
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        /// Skips any JSON value; false when it is malformed.
        mutating func skipValue(depth: Int = 0) -> Bool {
            guard depth < 512, let b = peek else { return false }
            switch b {
            case UInt8(ascii: "\""):
                return stringBytes() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = b == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                i += 1
                skipSpace()
                if consume(close) { return true }
                while true {
                    skipSpace()
                    if close == UInt8(ascii: "}") {
                        guard peek == UInt8(ascii: "\""), stringBytes() != nil else { return false }
                        skipSpace()
                        guard consume(UInt8(ascii: ":")) else { return false }
                        skipSpace()
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipSpace()
                    if consume(UInt8(ascii: ",")) { continue }
                    return consume(close)
                }
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default:
                return number()
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }

        /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            func digits() -> Int { var n = 0; while let c = peek, c >= 0x30 && c <= 0x39 { i += 1; n += 1 }; return n }
            guard let first = peek, first >= 0x30 && first <= 0x39 else { return false }
            if first == 0x30 { i += 1 } else { _ = digits() }
            if consume(UInt8(ascii: ".")) { guard digits() > 0 else { return false } }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() > 0 else { return false }
            }
            return true
        }
    }
}
