import Foundation

/// Cleaning: a fixed order of named filters, each counting what it changed or rejected. A
/// rejected document keeps its reason (the filter's name and the measured value), for the
/// rejects file: nothing disappears silently.
public struct Cleaner: Sendable {
    public var nfkc = false
    public var minimumCharacters = 20
    public var maximumCharacters = 1_000_000
    /// Largest share of characters that are neither letters nor whitespace (symbols, digits, punctuation).
    public var maximumSymbolRatio = 0.5
    /// Largest share of a document's non-empty lines that repeat another line of it (Gopher).
    public var maximumDuplicateLineFraction = 0.3
    /// Largest share of characters covered by the most frequent word/character 2-gram (Gopher).
    public var maximumTopBigramFraction = 0.2
    /// Documents with fewer units (words; Han characters) are not judged by the 2-gram share: in
    /// a short text one repeated word is most of it (「觉得不好笑。。。。觉得么说的那么好啊。」
    /// was rejected at 0.29). Gopher likewise applies its repetition filters only from 50 words.
    public var minimumUnitsForTopBigram = 50
    /// Scripts a document may be written in (by share of letters); nil allows all.
    public var allowedScripts: Set<Script>? = nil
    /// Share of letters that must be in allowed scripts.
    public var minimumAllowedScriptShare = 0.8

    public enum Script: String, Sendable, CaseIterable, Codable { case han, latin, kana, hangul, cyrillic, arabic, other }

    public init() {}

    public enum Outcome: Equatable, Sendable { case keep(String), reject(String) }

    /// Filter names in the order they run (the keys of the counts in reports).
    public static let steps = ["normalize", "control-and-ansi", "whitespace", "length", "symbol-ratio",
                               "duplicate-lines", "top-bigram", "script"]

    /// Cleans one document: the cleaned text, or the reason it was rejected. `changed` receives the
    /// names of the steps that modified the text.
    public func clean(_ text: String, changed: (String) -> Void = { _ in }) -> Outcome {
        var units: [Shingler.Unit] = []
        return clean(text, changed: changed, units: &units)
    }

    /// Cleaning that also hands back the cleaned text's units (`Shingler.units`), which the
    /// repetition filter computes anyway and near-dedup needs next (empty when rejected early).
    public func clean(_ text: String, changed: (String) -> Void, units: inout [Shingler.Unit]) -> Outcome {
        // ASCII, and text in ranges canonical normalisation leaves alone, is already NFC: skip
        // the (Foundation) normaliser for it.
        let ascii = UTF8Scan.isASCII(text)
        var t = ascii || (!nfkc && UTF8Scan.isTriviallyNFC(text))
            ? text : (nfkc ? text.precomposedStringWithCompatibilityMapping : text.precomposedStringWithCanonicalMapping)
        if t != text { changed("normalize") }
        if Self.hasControlOrANSI(t) {
            let stripped = Self.removeControlAndANSI(t)
            if stripped != t { changed("control-and-ansi"); t = stripped }
        }
        if Self.needsWhitespaceNormalization(t) {
            let spaced = Self.normalizeWhitespace(t)
            if spaced != t { changed("whitespace"); t = spaced }
        }

        let characters = UTF8Scan.scalarCount(t)
        if characters < minimumCharacters { return .reject("length: \(characters) characters < \(minimumCharacters)") }
        if characters > maximumCharacters { return .reject("length: \(characters) characters > \(maximumCharacters)") }

        var letters = 0, symbols = 0
        var scriptCounts: [Script: Int] = [:]
        var latinASCII = 0, han = 0
        var duplicateLines = 0, lineCount = 0
        t.withUTF8 { b in
            var i = 0
            while i < b.count {
                let byte = b[i]
                if byte < 0x80 {   // ASCII fast path
                    i += 1
                    if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) { continue }
                    let v = byte | 0x20
                    if v >= 0x61 && v <= 0x7A { letters += 1; latinASCII += 1 } else { symbols += 1 }
                    continue
                }
                let (v, length) = UTF8Scan.scalar(at: i, in: b)
                i += length
                if v >= 0x4E00 && v < 0xA000 { letters += 1; han += 1; continue }   // CJK ideographs
                let s = Unicode.Scalar(v)!
                if s.properties.isWhitespace { continue }
                if s.properties.isAlphabetic { letters += 1; scriptCounts[Self.script(of: s), default: 0] += 1 } else { symbols += 1 }
            }
            // Lines that repeat another line of the document (trimmed, empty ones ignored).
            var seen = HashKeyedTable<Bool>(empty: false)
            UTF8Scan.forEachLine(b) { line in
                let trimmed = UTF8Scan.trimmingSpaces(line)
                guard !trimmed.isEmpty else { return }
                lineCount += 1
                if !seen.update(UTF8Scan.hash(trimmed), initial: true) { duplicateLines += 1 }
            }
        }
        if latinASCII > 0 { scriptCounts[.latin, default: 0] += latinASCII }
        if han > 0 { scriptCounts[.han, default: 0] += han }
        let symbolRatio = Double(symbols) / Double(max(1, letters + symbols))
        if symbolRatio > maximumSymbolRatio {
            return .reject(String(format: "symbol-ratio: %.2f > %.2f", symbolRatio, maximumSymbolRatio))
        }
        if lineCount > 1 {
            let fraction = Double(duplicateLines) / Double(lineCount)
            if fraction > maximumDuplicateLineFraction {
                return .reject(String(format: "duplicate-lines: %.2f of lines repeat > %.2f", fraction, maximumDuplicateLineFraction))
            }
        }
        units = Shingler.units(t)
        if units.count >= minimumUnitsForTopBigram, let top = Self.topBigram(t, units: units), top.fraction > maximumTopBigramFraction {
            return .reject(String(format: "top-bigram: '%@' covers %.2f of the text > %.2f", top.gram(), top.fraction, maximumTopBigramFraction))
        }
        if let allowed = allowedScripts, letters > 0 {
            let inAllowed = scriptCounts.filter { allowed.contains($0.key) }.values.reduce(0, +)
            let share = Double(inAllowed) / Double(letters)
            if share < minimumAllowedScriptShare {
                let main = scriptCounts.max { $0.value < $1.value }?.key.rawValue ?? "none"
                return .reject(String(format: "script: %.2f of letters in allowed scripts (mostly %@) < %.2f", share, main, minimumAllowedScriptShare))
            }
        }
        return .keep(t)
    }

    /// Whether `removeControlAndANSI` would change the text: an escape, a control character
    /// other than newline and tab, or a format character other than the zero-width joiner.
    static func hasControlOrANSI(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { b in
            var i = 0
            while i < b.count {
                let byte = b[i]
                if byte < 0x80 {
                    if (byte < 0x20 && byte != 0x0A && byte != 0x09) || byte == 0x7F { return true }
                    i += 1
                    continue
                }
                let (v, length) = UTF8Scan.scalar(at: i, in: b)
                i += length
                switch v {
                case 0xA0..<0x600 where v != 0xAD, 0x3000..<0xA000, 0xAC00..<0xD7A4, 0xFF00..<0xFFF0: continue   // no Cc or Cf here
                default:
                    let category = Unicode.Scalar(v)!.properties.generalCategory
                    if category == .control || (category == .format && v != 0x200D) { return true }
                }
            }
            return false
        }
    }

    /// Whether `normalizeWhitespace` would change the text: a carriage return, a space at a
    /// line's end, more than one blank line in a row, or a blank line at either end.
    static func needsWhitespaceNormalization(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { b in
            if b.isEmpty { return false }
            if b[0] == 0x0A || b[b.count - 1] == 0x0A { return true }
            @inline(__always) func endsWithSpace(_ end: Int) -> Bool {
                // ' ', U+00A0 (C2 A0) or U+3000 (E3 80 80) just before `end`.
                if end >= 1 && b[end - 1] == 0x20 { return true }
                if end >= 2 && b[end - 2] == 0xC2 && b[end - 1] == 0xA0 { return true }
                return end >= 3 && b[end - 3] == 0xE3 && b[end - 2] == 0x80 && b[end - 1] == 0x80
            }
            for i in 0..<b.count {
                let byte = b[i]
                if byte == 0x0D { return true }
                if byte == 0x0A {
                    if endsWithSpace(i) { return true }
                    if i + 2 < b.count && b[i + 1] == 0x0A && b[i + 2] == 0x0A { return true }
                }
            }
            return endsWithSpace(b.count)
        }
    }

    /// Removes ANSI escape sequences (CSI `ESC [ … letter`, and other `ESC x`) and control
    /// characters other than newline and tab.
    static func removeControlAndANSI(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let s = scalars.next() {
            if s == "\u{1B}" {
                guard let next = scalars.next() else { break }
                if next == "[" {
                    while let c = scalars.next(), !(c.value >= 0x40 && c.value <= 0x7E) {}
                }
                continue
            }
            if s == "\n" || s == "\t" { out.append(s); continue }
            if s.value < 0x80 { if s.value >= 0x20 && s.value != 0x7F { out.append(s) }; continue }
            if s.properties.generalCategory == .control || s.properties.generalCategory == .format && s.value != 0x200D { continue }
            out.append(s)
        }
        return String(out)
    }

    /// Trailing spaces removed, tabs kept, runs of more than two blank lines reduced to one blank
    /// line, CRLF and CR made LF, leading and trailing blank lines dropped.
    static func normalizeWhitespace(_ text: String) -> String {
        var text = text
        var lines: [Range<Int>] = []
        let bytes: [UInt8] = text.withUTF8 { b in
            // CRLF and CR → LF first (into a copy), then work on lines of the copy.
            var unified: [UInt8] = []
            unified.reserveCapacity(b.count)
            var i = 0
            while i < b.count {
                if b[i] == 0x0D {
                    unified.append(0x0A)
                    if i + 1 < b.count && b[i + 1] == 0x0A { i += 1 }
                } else {
                    unified.append(b[i])
                }
                i += 1
            }
            return unified
        }
        var blank = 0
        bytes.withUnsafeBufferPointer { b in
            var start = 0
            while start <= b.count {
                var end = start
                while end < b.count && b[end] != 0x0A { end += 1 }
                let next = end + 1
                // Trailing ' ', U+00A0 (C2 A0) and U+3000 (E3 80 80) off.
                while end > start {
                    if b[end - 1] == 0x20 { end -= 1 }
                    else if end - start >= 2 && b[end - 2] == 0xC2 && b[end - 1] == 0xA0 { end -= 2 }
                    else if end - start >= 3 && b[end - 3] == 0xE3 && b[end - 2] == 0x80 && b[end - 1] == 0x80 { end -= 3 }
                    else { break }
                }
                if end == start { blank += 1 } else { blank = 0 }
                if blank <= 1 { lines.append(start..<end) }
                start = next
            }
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (k, range) in lines.enumerated() {
            if k > 0 { out.append(0x0A) }
            out.append(contentsOf: bytes[range])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The most frequent 2-gram of units (words; single characters for Han/kana) and the share of
    /// characters its occurrences cover; the 2-gram's text is built only when asked for.
    struct TopBigram {
        let fraction: Double
        let text: String
        let first: Shingler.Unit, second: Shingler.Unit

        func gram() -> String {
            let scalars = Array(text.unicodeScalars)
            func piece(_ u: Shingler.Unit) -> String { String(String.UnicodeScalarView(scalars[u.start..<(u.start + u.length)])) }
            return piece(first) + " " + piece(second)
        }
    }

    static func topBigram(_ text: String, units: [Shingler.Unit]) -> TopBigram? {
        guard units.count >= 10 else { return nil }
        // Bigram key → (count, covered length, first index).
        var counts = HashKeyedTable<(n: Int, length: Int, first: Int)>(capacity: units.count, empty: (0, 0, 0))
        for i in 0..<(units.count - 1) {
            let key = (units[i].hash &* 0x9E37_79B9_7F4A_7C15) ^ units[i + 1].hash
            counts.update(key, initial: (1, units[i].length + units[i + 1].length, i)) { $0.n += 1 }
        }
        let total = units.reduce(0) { $0 + $1.length }
        // The largest covered share; ties broken by first occurrence, so the result never depends
        // on dictionary order.
        var best: (covered: Int, first: Int)?
        counts.forEach { _, c in
            guard c.n > 1 else { return }
            let covered = c.n * c.length
            if best == nil || covered > best!.covered || (covered == best!.covered && c.first < best!.first) { best = (covered, c.first) }
        }
        guard let best else { return nil }
        return TopBigram(fraction: Double(best.covered) / Double(max(1, total)), text: text,
                         first: units[best.first], second: units[best.first + 1])
    }

    static func script(of s: Unicode.Scalar) -> Script {
        let v = s.value
        if (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x3134F).contains(v) || (0xF900...0xFAFF).contains(v) { return .han }
        if (0x3040...0x30FF).contains(v) || (0x31F0...0x31FF).contains(v) { return .kana }
        if (0xAC00...0xD7AF).contains(v) || (0x1100...0x11FF).contains(v) || (0x3130...0x318F).contains(v) { return .hangul }
        if v < 0x250 || (0x1E00...0x1EFF).contains(v) || (0xFF21...0xFF5A).contains(v) { return .latin }
        if (0x400...0x52F).contains(v) { return .cyrillic }
        if (0x600...0x6FF).contains(v) || (0x750...0x77F).contains(v) { return .arabic }
        return .other
    }
}
