// Pre-tokenizers split text into chunks before BPE; merges never cross a chunk boundary.
//
// They are hand-written scanners over Unicode scalars that give exactly the matches of the regular
// expressions the reference tokenizers use (leftmost alternative first, greedy repetition, with
// the backtracking those patterns imply), without a regex engine:
//
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   cl100k: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//           | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   cjk:    (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{Han}{1,16}
//           |[^\r\n\p{L}\p{N}]?[\p{L}&&[^\p{Han}]]+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+
//           |\s+(?!\S)|\s+      (Oniguruma syntax, as Hugging Face tokenizers runs it)
//
// \p{L} and \p{N} are the Unicode general categories L* and N*, \s the White_Space property,
// all from the Swift standard library's Unicode tables (the whole of Unicode, not just ASCII).

/// Which split a tokenizer applies before BPE.
public enum PreTokenizer: String, Sendable, CaseIterable, Codable {
    /// GPT-2's pattern (also HF's ByteLevel pre-tokenizer with use_regex).
    case gpt2
    /// GPT-4's cl100k pattern: case-insensitive contractions, numbers in groups of at most 3,
    /// newlines kept with the whitespace before them.
    case cl100k
    /// Lian's preset for Chinese and English: cl100k, except that a run of Han characters is its
    /// own chunk (never glued to Latin letters: "用Swift写" is 用 | Swift | 写) and is cut after
    /// 16 characters, so a long unpunctuated clause is not one giant chunk. Measured with 8,192-token
    /// vocabularies trained on Shakespeare + People's Daily (BENCHMARKS.md): cutting Han runs
    /// short (2–4 characters) compresses Chinese worse — merges that span words are the ones that
    /// pay — so the cut is long; this preset and cl100k both beat Hugging Face's GPT-2-regex BPE.
    case cjk

    /// Where each chunk ends, as scalar offsets into `scalars` (the last is `scalars.count`).
    func chunkEnds(_ scalars: [Unicode.Scalar]) -> [Int] {
        var ends: [Int] = []
        ends.reserveCapacity(scalars.count / 3)
        var i = 0
        while i < scalars.count {
            let n: Int
            switch self {
            case .gpt2: n = ScalarScanner.gpt2Match(scalars, i)
            case .cl100k: n = ScalarScanner.cl100kMatch(scalars, i, cjk: false)
            case .cjk: n = ScalarScanner.cl100kMatch(scalars, i, cjk: true)
            }
            i += max(1, n)
            ends.append(i)
        }
        return ends
    }

    /// The chunks of `text`, in order; concatenated they give `text` back.
    public func split(_ text: String) -> [Substring] {
        let ends = chunkEnds(Array(text.unicodeScalars))
        // Map scalar offsets back to String indices.
        var result: [Substring] = []
        result.reserveCapacity(ends.count)
        var index = text.unicodeScalars.startIndex
        var offset = 0
        for end in ends {
            let start = index
            index = text.unicodeScalars.index(index, offsetBy: end - offset)
            offset = end
            result.append(Substring(text.unicodeScalars[start..<index]))
        }
        return result
    }
}

/// Character classes and the per-pattern scanners. Each `...Match` returns the length (in
/// scalars) of the match at position i; every position matches some alternative.
enum ScalarScanner {
    @inline(__always) static func isLetter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return (s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A }
        if s.value >= 0x4E00 && s.value <= 0x9FFF { return true }   // CJK Unified Ideographs: all Lo
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always) static func isNumber(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value >= 0x30 && s.value <= 0x39 }
        if s.value >= 0x4E00 && s.value <= 0x9FFF { return false }
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    @inline(__always) static func isSpace(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value == 0x20 || (s.value >= 0x09 && s.value <= 0x0D) }
        if s.value >= 0x4E00 && s.value <= 0x9FFF { return false }
        return s.properties.isWhitespace
    }

    @inline(__always) static func isNewline(_ s: Unicode.Scalar) -> Bool { s.value == 0x0A || s.value == 0x0D }

    /// Not whitespace, letter or number.
    @inline(__always) static func isOther(_ s: Unicode.Scalar) -> Bool { !isSpace(s) && !isLetter(s) && !isNumber(s) }

    /// 's 't 're 've 'm 'll 'd at i (optionally case-insensitive): the match length or 0.
    static func contraction(_ t: [Unicode.Scalar], _ i: Int, caseInsensitive: Bool) -> Int {
        guard t[i] == "'" && i + 1 < t.count else { return 0 }
        func lower(_ s: Unicode.Scalar) -> Unicode.Scalar {
            caseInsensitive && s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 0x20)! : s
        }
        let a = lower(t[i + 1])
        if a == "s" || a == "t" || a == "m" || a == "d" { return 2 }
        if i + 2 < t.count {
            let b = lower(t[i + 2])
            if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return 3 }
        }
        return 0
    }

    /// The length of the run starting at i whose scalars satisfy `test`.
    @inline(__always) static func run(_ t: [Unicode.Scalar], _ i: Int, _ test: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        while j < t.count && test(t[j]) { j += 1 }
        return j - i
    }

    /// `\s+(?!\S)|\s+` at i (i is whitespace): the whole run at the end of the text or when it is
    /// one scalar; otherwise the run minus its last scalar, which then starts the next chunk.
    static func whitespace(_ t: [Unicode.Scalar], _ i: Int) -> Int {
        let n = run(t, i, isSpace)
        if i + n == t.count || n == 1 { return n }
        return n - 1
    }

    static func gpt2Match(_ t: [Unicode.Scalar], _ i: Int) -> Int {
        let c = contraction(t, i, caseInsensitive: false)
        if c > 0 { return c }
        let s = t[i]
        let spaced = s == " " && i + 1 < t.count
        if isLetter(s) { return run(t, i, isLetter) }
        if spaced && isLetter(t[i + 1]) { return 1 + run(t, i + 1, isLetter) }
        if isNumber(s) { return run(t, i, isNumber) }
        if spaced && isNumber(t[i + 1]) { return 1 + run(t, i + 1, isNumber) }
        if isOther(s) { return run(t, i, isOther) }
        if spaced && isOther(t[i + 1]) { return 1 + run(t, i + 1, isOther) }
        return whitespace(t, i)
    }

    /// The longest piece a run of Han characters is cut into by the cjk preset (the regex written
    /// to tokenizer.json says the same: \p{Han}{1,16}).
    static let hanPieceLength = 16

    /// The Unicode Han script (what `\p{Han}` matches): ideographs and their extensions,
    /// compatibility ideographs, radicals, 々 〇 〆 and the Hangzhou numerals.
    @inline(__always) static func isHan(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x2E80 { return false }
        if v >= 0x4E00 && v <= 0x9FFF { return true }
        for range in hanRanges where range.contains(v) { return true }
        return false
    }

    static let hanRanges: [ClosedRange<UInt32>] = [
        0x2E80...0x2E99, 0x2E9B...0x2EF3, 0x2F00...0x2FD5, 0x3005...0x3005, 0x3007...0x3007, 0x3021...0x3029,
        0x3038...0x303B, 0x3400...0x4DBF, 0xF900...0xFA6D, 0xFA70...0xFAD9, 0x20000...0x2A6DF, 0x2A700...0x2EBE0,
        0x2F800...0x2FA1D, 0x30000...0x323AF,
    ]

    @inline(__always) static func isNonHanLetter(_ s: Unicode.Scalar) -> Bool { isLetter(s) && !isHan(s) }

    static func cl100kMatch(_ t: [Unicode.Scalar], _ i: Int, cjk: Bool) -> Int {
        let c = contraction(t, i, caseInsensitive: true)
        if c > 0 { return c }
        let s = t[i]
        // cjk: [^\r\n\p{L}\p{N}]?\p{Han}{1,hanPieceLength}
        if cjk {
            let lead = !isNewline(s) && !isLetter(s) && !isNumber(s) && i + 1 < t.count && isHan(t[i + 1]) ? 1 : 0
            if lead == 1 || isHan(s) { return lead + min(hanPieceLength, run(t, i + lead, isHan)) }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+  (for cjk: letters other than Han). The two runs are spelled
        // out so that each inlines its class test (a closure chosen at run time was a call per
        // scalar).
        @inline(__always) func letter(_ x: Unicode.Scalar) -> Bool { cjk ? isNonHanLetter(x) : isLetter(x) }
        @inline(__always) func letters(from j: Int) -> Int { cjk ? run(t, j, isNonHanLetter) : run(t, j, isLetter) }
        if !isNewline(s) && !isLetter(s) && !isNumber(s) && i + 1 < t.count && letter(t[i + 1]) {
            return 1 + letters(from: i + 1)
        }
        if isLetter(s) { return letters(from: i) }
        // \p{N}{1,3}
        if isNumber(s) { return min(3, run(t, i, isNumber)) }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        let start = s == " " && i + 1 < t.count && isOther(t[i + 1]) ? i + 1 : i
        if isOther(t[start]) {
            let end = start + run(t, start, isOther)
            return end + run(t, end, isNewline) - i
        }
        // \s*[\r\n]+ : up to and including the last newline of the whitespace run.
        let n = run(t, i, isSpace)
        var last = -1
        for j in i..<(i + n) where isNewline(t[j]) { last = j }
        if last >= 0 { return last + 1 - i }
        return whitespace(t, i)
    }
}
