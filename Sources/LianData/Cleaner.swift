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
    /// Scripts a document may be written in (by share of letters); nil allows all.
    public var allowedScripts: Set<Script>? = nil
    /// Share of letters that must be in allowed scripts.
    public var minimumAllowedScriptShare = 0.8

    public enum Script: String, Sendable, CaseIterable, Codable { case han, latin, kana, hangul, cyrillic, arabic, other }

    public init() {}

    public enum Outcome: Equatable { case keep(String), reject(String) }

    /// Filter names in the order they run (the keys of the counts in reports).
    public static let steps = ["normalize", "control-and-ansi", "whitespace", "length", "symbol-ratio",
                               "duplicate-lines", "top-bigram", "script"]

    /// Cleans one document: the cleaned text, or the reason it was rejected. `changed` receives the
    /// names of the steps that modified the text.
    public func clean(_ text: String, changed: (String) -> Void = { _ in }) -> Outcome {
        // ASCII is already in every normal form; skip the (Foundation) normalisation for it.
        let ascii = text.utf8.allSatisfy { $0 < 0x80 }
        var t = ascii ? text : (nfkc ? text.precomposedStringWithCompatibilityMapping : text.precomposedStringWithCanonicalMapping)
        if t != text { changed("normalize") }
        let stripped = Self.removeControlAndANSI(t)
        if stripped != t { changed("control-and-ansi"); t = stripped }
        let spaced = Self.normalizeWhitespace(t)
        if spaced != t { changed("whitespace"); t = spaced }

        let characters = t.unicodeScalars.count
        if characters < minimumCharacters { return .reject("length: \(characters) characters < \(minimumCharacters)") }
        if characters > maximumCharacters { return .reject("length: \(characters) characters > \(maximumCharacters)") }

        var letters = 0, symbols = 0
        var scriptCounts: [Script: Int] = [:]
        var latinASCII = 0
        for s in t.unicodeScalars {
            if s.value < 0x80 {   // ASCII fast path
                if s.value == 0x20 || (s.value >= 0x09 && s.value <= 0x0D) { continue }
                let v = s.value | 0x20
                if v >= 0x61 && v <= 0x7A { letters += 1; latinASCII += 1 } else { symbols += 1 }
                continue
            }
            if s.properties.isWhitespace { continue }
            if s.properties.isAlphabetic { letters += 1; scriptCounts[Self.script(of: s), default: 0] += 1 } else { symbols += 1 }
        }
        if latinASCII > 0 { scriptCounts[.latin, default: 0] += latinASCII }
        let symbolRatio = Double(symbols) / Double(max(1, letters + symbols))
        if symbolRatio > maximumSymbolRatio {
            return .reject(String(format: "symbol-ratio: %.2f > %.2f", symbolRatio, maximumSymbolRatio))
        }
        let lines = t.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if lines.count > 1 {
            let duplicates = lines.count - Set(lines).count
            let fraction = Double(duplicates) / Double(lines.count)
            if fraction > maximumDuplicateLineFraction {
                return .reject(String(format: "duplicate-lines: %.2f of lines repeat > %.2f", fraction, maximumDuplicateLineFraction))
            }
        }
        if let (gram, fraction) = Self.topBigramFraction(t), fraction > maximumTopBigramFraction {
            return .reject(String(format: "top-bigram: '%@' covers %.2f of the text > %.2f", gram, fraction, maximumTopBigramFraction))
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
        let unified = text.utf8.contains(13)
            ? text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n") : text
        var lines: [Substring] = []
        var blank = 0
        for line in unified.split(separator: "\n", omittingEmptySubsequences: false) {
            var l = line
            while let last = l.last, last == " " || last == "\u{3000}" || last == "\u{A0}" { l = l.dropLast() }
            if l.isEmpty { blank += 1; if blank > 1 { continue } } else { blank = 0 }
            lines.append(l)
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The most frequent 2-gram of units (words; single characters for Han/kana) and the share of
    /// characters its occurrences cover.
    static func topBigramFraction(_ text: String) -> (String, Double)? {
        let units = Shingler.units(text)
        guard units.count >= 10 else { return nil }
        // Bigram key → (count, covered length, first index).
        var counts: [UInt64: (n: Int, length: Int, first: Int)] = [:]
        for i in 0..<(units.count - 1) {
            let key = (units[i].hash &* 0x9E37_79B9_7F4A_7C15) ^ units[i + 1].hash
            if let c = counts[key] { counts[key] = (c.n + 1, c.length, c.first) } else { counts[key] = (1, units[i].length + units[i + 1].length, i) }
        }
        let total = units.reduce(0) { $0 + $1.length }
        // The largest covered share; ties broken by first occurrence, so the result never depends
        // on dictionary order.
        var best: (covered: Int, first: Int)?
        for (_, c) in counts where c.n > 1 {
            let covered = c.n * c.length
            if best == nil || covered > best!.covered || (covered == best!.covered && c.first < best!.first) { best = (covered, c.first) }
        }
        guard let best else { return nil }
        let scalars = Array(text.unicodeScalars)
        let a = units[best.first], b = units[best.first + 1]
        let gram = String(String.UnicodeScalarView(scalars[a.start..<(a.start + a.length)])) + " "
            + String(String.UnicodeScalarView(scalars[b.start..<(b.start + b.length)]))
        return (gram, Double(best.covered) / Double(max(1, total)))
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
