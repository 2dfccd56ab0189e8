import Foundation
import LianKernels
import LianTestSupport
@testable import LianTokenizer
import Testing

@Suite struct TokenizerTests {
    /// Random strings from many scripts and odd code points.
    static func randomText(seed: UInt64) -> String {
        var rng = SeededRandom(seed: seed)
        let ranges: [ClosedRange<UInt32>] = [
            0x20...0x7E, 0x00...0x1F, 0x4E00...0x9FFF, 0x3040...0x30FF, 0xAC00...0xD7A3, 0x0300...0x036F,
            0x0400...0x04FF, 0x0600...0x06FF, 0x1F300...0x1F64F, 0x2000...0x206F, 0x00A0...0x00FF, 0xFF00...0xFFEF,
        ]
        var scalars = String.UnicodeScalarView()
        let length = Int(rng.next() % 40)
        for _ in 0..<length {
            let range = ranges[Int(rng.next() % UInt64(ranges.count))]
            let value = range.lowerBound + UInt32(rng.next() % UInt64(range.count))
            if let s = Unicode.Scalar(value) { scalars.append(s) }
            if rng.next() % 5 == 0 { scalars.append(" ") }
        }
        return String(scalars)
    }

    @Test func chunksConcatenateToTheText() {
        for preset in PreTokenizer.allCases {
            for seed in 0..<500 {
                let text = Self.randomText(seed: UInt64(seed))
                #expect(preset.split(text).joined() == text, "\(preset) seed \(seed)")
            }
        }
    }

    @Test func roundTripsArbitraryUnicode() throws {
        guard let shared = SharedFolder.locate() else { return }
        for name in ["gpt2", "bbpe_zh_en_8192"] {
            let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("oracles/tokenizers/\(name)/tokenizer.json"))
            for seed in 0..<300 {
                let text = Self.randomText(seed: UInt64(1000 + seed))
                let ids = tokenizer.encode(text)
                #expect(tokenizer.decodeBytes(ids) == Array(text.utf8), "\(name) seed \(seed): \(text.debugDescription)")
            }
        }
    }

    /// Long chunks merge with a heap, short ones by scanning: both must apply the same merges in
    /// the same order (ties to the leftmost pair), on real text and on repeats that tie.
    @Test func heapAndScanMergeAlike() throws {
        guard let shared = SharedFolder.locate() else { return }
        let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("oracles/tokenizers/bbpe_zh_en_8192/tokenizer.json"))
        let model = tokenizer.model
        var rng = SeededRandom(seed: 7)
        let samples = ["我今天想去吃火锅，可是下雨了，所以在家里看书。", "To be, or not to be, that is the question: whether 'tis nobler",
                       String(repeating: "哈", count: 30), String(repeating: "ab", count: 25), String(repeating: "的的", count: 12) + "了"]
        var checked = 0
        for text in samples + (0..<200).map({ Self.randomText(seed: 5000 + UInt64($0)) }) {
            let bytes = Array(text.utf8)
            guard bytes.count >= 2 else { continue }
            for _ in 0..<4 {
                let start = Int(rng.next() % UInt64(bytes.count - 1))
                let end = min(bytes.count, start + 2 + Int(rng.next() % 60))
                let symbols = bytes[start..<end].map { Int32(model.encode([$0])[0]) }
                #expect(model.mergeWithHeap(symbols) == model.mergeByScanning(symbols), "\(bytes[start..<end])")
                checked += 1
            }
        }
        #expect(checked > 500)
    }

    @Test func specialTokensOnlyWhenAllowed() throws {
        guard let shared = SharedFolder.locate() else { return }
        let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("oracles/tokenizers/gpt2/tokenizer.json"))
        let text = "a<|endoftext|>b"
        #expect(!tokenizer.encode(text).contains(50256))
        #expect(tokenizer.encode(text, allowedSpecial: ["<|endoftext|>"]) == tokenizer.encode("a") + [50256] + tokenizer.encode("b"))
        #expect(tokenizer.decode([50256]) == "<|endoftext|>")
    }

    func expectError(_ json: String, mentioning words: [String]) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-tok-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try? Data(json.utf8).write(to: url)
        do {
            _ = try BPETokenizer(contentsOf: url)
            Issue.record("no error for \(json.prefix(60))")
        } catch let error as TokenizerError {
            for word in words + [url.path] { #expect(error.description.contains(word), "'\(error)' lacks \(word)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func malformedFilesSayWhere() {
        let bytes = (0..<256).map { "\"\(String(ByteLevel.characters[$0]).unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined())\": \($0)" }
        let vocab = "{" + bytes.joined(separator: ", ") + "}"
        let pre = #""pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#
        expectError("not json", mentioning: ["JSON"])
        expectError(#"{"model": {"type": "WordPiece"}}"#, mentioning: ["WordPiece"])
        expectError(#"{"model": {"type": "BPE", "vocab": \#(vocab)}, \#(pre)}"#, mentioning: ["merges"])
        expectError(#"{"model": {"type": "BPE", "vocab": \#(vocab), "merges": ["a b c"]}, \#(pre)}"#, mentioning: ["merges[0]"])
        expectError(#"{"model": {"type": "BPE", "vocab": \#(vocab), "merges": ["a zz"]}, \#(pre)}"#, mentioning: ["merges[0]", "zz"])
        expectError(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, \#(pre)}"#, mentioning: ["single byte"])
        expectError(#"{"model": {"type": "BPE", "vocab": \#(vocab), "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\w+"}}}"#, mentioning: ["regex"])
    }
}

@Suite struct StreamingDecoderTests {
    @Test func neverBreaksACharacter() throws {
        var trainer = BPETrainer(vocabularySize: 300, specialTokens: [])
        trainer.count("abc")   // almost no merges: Chinese and emoji stay split into bytes
        let tokenizer = try trainer.train()
        for seed in 0..<200 {
            let text = TokenizerTests.randomText(seed: UInt64(seed)) + "北京🙂é"
            let stream = StreamingDecoder(tokenizer)
            var out = ""
            for id in tokenizer.encode(text) {
                let piece = stream.add(id)
                #expect(!piece.contains("\u{FFFD}"), "seed \(seed): a broken character was emitted")
                out += piece
            }
            out += stream.finish()
            #expect(out == text, "seed \(seed)")
        }
    }
}
