import Foundation
@testable import LianData
import Testing

/// The byte-level fast paths against the general (Foundation / String) code they stand in for.
@Suite struct TextScanTests {
    static let samples: [String] = [
        "", "plain ASCII text", "trailing space \nnext", "  \n\n\nthree blank lines\n\n\n\nend\n", "\r\nwindows\r\nlines\r",
        "全角　\n句子。", "café e\u{301} combining", "Å ohm \u{2126} angstrom \u{212B}", "か\u{3099} decomposed kana",
        "한국어 텍스트 \u{1100}\u{1161}", "emoji 😀 and 𠀀 astral", "soft\u{AD}hyphen and zero\u{200B}width", "bidi \u{202E}x",
        "zwj 👨\u{200D}👩", "\u{1B}[31mred\u{1B}[0m", "tab\tand\u{7}bell", "nbsp\u{A0}\nline", "C1 \u{85} control",
        "ﬁ ligature ＡＢＣ fullwidth", "中文，混合 English；标点！", "\u{FEFF}bom",
    ]

    @Test func scalarCountMatchesTheScalarView() {
        for s in Self.samples + [String(repeating: "中a", count: 100)] {
            #expect(UTF8Scan.scalarCount(s) == s.unicodeScalars.count, "\(s.debugDescription)")
        }
    }

    /// The 32-byte ASCII check agrees with a byte-by-byte one, whatever the length and wherever
    /// the first non-ASCII byte falls (in a full vector or in the tail).
    @Test func asciiCheckMatchesTheBytes() {
        var cases = Self.samples
        for length in [0, 1, 31, 32, 33, 64, 95] {
            let plain = String(repeating: "a", count: length)
            cases.append(plain)
            for at in [0, length / 2, max(0, length - 1)] where length > 0 {
                cases.append(String(plain.prefix(at)) + "é" + String(plain.dropFirst(at + 1)))
            }
        }
        for s in cases {
            #expect(UTF8Scan.isASCII(s) == s.utf8.allSatisfy { $0 < 0x80 }, "\(s.debugDescription)")
        }
    }

    /// Text the quick check passes is unchanged by NFC; text it refuses goes to Foundation.
    @Test func triviallyNFCTextIsNFC() {
        var passed = 0
        for s in Self.samples where UTF8Scan.isTriviallyNFC(s) {
            passed += 1
            #expect(s.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(s.unicodeScalars), "\(s.debugDescription)")
        }
        #expect(passed >= 8)
        #expect(!UTF8Scan.isTriviallyNFC("e\u{301}") && !UTF8Scan.isTriviallyNFC("\u{2126}") && !UTF8Scan.isTriviallyNFC("か\u{3099}"))
    }

    @Test func quickChecksAgreeWithTheFilters() {
        for s in Self.samples {
            #expect(Cleaner.hasControlOrANSI(s) == (Cleaner.removeControlAndANSI(s) != s), "\(s.debugDescription)")
            #expect(Cleaner.needsWhitespaceNormalization(s) == (Cleaner.normalizeWhitespace(s) != s), "\(s.debugDescription)")
        }
        #expect(Cleaner.normalizeWhitespace("  \n\na  \u{3000}\r\n\n\n\nb\u{A0}\n\n") == "a\n\nb")
    }

    @Test func jsonFieldMatchesFoundation() throws {
        let lines = [
            #"{"text": "plain"}"#, #"{"id": 3, "text": "esc \" \\ \/ \b \f \n \r \t \u00e9 \u4e2d \ud83d\ude00", "x": [1, {"a": null}]}"#,
            #"{"a": {"text": "nested"}, "text": "outer"}"#, #"  {"text":"",  "n": -1.5e3, "t": true, "f": false}  "#,
            #"{"other": "x"}"#, #"{"text": 5}"#,
        ]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let expected: JSONLine.Field = (object["text"] as? String).map { .string($0) } ?? (object["text"] == nil ? .missing : .otherValue)
            let got = Array(line.utf8).withUnsafeBufferPointer { JSONLine.field("text", in: $0) }
            #expect(got == expected, "\(line)")
        }
        for bad in [#"{"text": "unterminated}"#, #"{"text" "x"}"#, #"["text"]"#, #"{"text": "a"} trailing"#, #"{"text": tru}"#, "{\"text\": \"raw\nnewline\"}"] {
            #expect(Array(bad.utf8).withUnsafeBufferPointer { JSONLine.field("text", in: $0) } == nil, "\(bad)")
        }
        // A lone surrogate becomes U+FFFD.
        let lone = Array(#"{"text": "a\ud800b"}"#.utf8).withUnsafeBufferPointer { JSONLine.field("text", in: $0) }
        #expect(lone == .string("a\u{FFFD}b"))
    }

    @Test func jsonTextRoundTripsThroughFoundation() throws {
        let object: [String: Any] = ["text": "quote \" backslash \\ newline \n tab \t bell \u{7} 中文 😀 /slash",
                                     "line": 42, "dropped": ["a:1", "b:2"], "kind": "exact"]
        let line = DataPipeline.jsonLine(object)
        #expect(line.last == 0x0A)
        let back = try #require(try JSONSerialization.jsonObject(with: Data(line.dropLast())) as? [String: Any])
        #expect(back["text"] as? String == object["text"] as? String)
        #expect(back["line"] as? Int == 42 && back["dropped"] as? [String] == ["a:1", "b:2"])
        #expect(String(decoding: line, as: UTF8.self).hasPrefix(#"{"dropped":["a:1","b:2"],"kind":"exact","line":42,"text":"quote \"#))
    }
}
