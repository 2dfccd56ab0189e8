import Foundation
import LianTestSupport
import LianTokenizer
import Testing

@Suite struct TrainerTests {
    /// The classic example (Wikipedia's, minbpe's test): aa → Z, ab → Y, ZY → X, so
    /// "aaabdaaabac" becomes X d X a c.
    @Test func goldenAaabdaaabac() throws {
        var trainer = BPETrainer(vocabularySize: 256 + 3, minimumFrequency: 1, specialTokens: [], preTokenizer: .gpt2)
        trainer.count("aaabdaaabac")
        let tokenizer = try trainer.train()
        #expect(tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99])
        #expect(tokenizer.model.tokenBytes[256] == Array("aa".utf8))
        #expect(tokenizer.model.tokenBytes[257] == Array("ab".utf8))
        #expect(tokenizer.model.tokenBytes[258] == Array("aaab".utf8))
    }

    @Test func specialTokensComeFirstAndMinimumFrequencyStops() throws {
        var trainer = BPETrainer(vocabularySize: 1000, minimumFrequency: 3, specialTokens: ["<|endoftext|>", "<|im_start|>"])
        trainer.count("the cat the hat the bat")
        let tokenizer = try trainer.train()
        #expect(tokenizer.specialTokens == ["<|endoftext|>": 0, "<|im_start|>": 1])
        // Only pairs seen ≥ 3 times merge: "th", "the", " t"... then it stops well short of 1000.
        #expect(tokenizer.model.tokenBytes.count < 300)
        #expect(tokenizer.encode("<|im_start|>the", allowedSpecial: ["<|im_start|>"]).first == 1)
    }

    /// A trained tokenizer round-trips arbitrary Unicode (emoji, combining marks, CJK, controls).
    @Test func trainedTokenizerRoundTrips() throws {
        var trainer = BPETrainer(vocabularySize: 600, preTokenizer: .cjk)
        trainer.count(String(repeating: "我爱北京天安门。The quick brown fox jumps over the lazy dog! 天安门上太阳升。\n", count: 20))
        let tokenizer = try trainer.train()
        #expect(tokenizer.encode("我爱北京天安门").count <= 4, "frequent Han pieces become tokens")
        for seed in 0..<300 {
            let text = TokenizerTests.randomText(seed: UInt64(seed))
            #expect(tokenizer.decodeBytes(tokenizer.encode(text)) == Array(text.utf8), "seed \(seed)")
        }
    }
}

@Suite struct TokenizerWritingTests {
    /// A trained tokenizer written as tokenizer.json and read back encodes identically.
    @Test(arguments: PreTokenizer.allCases)
    func saveThenLoadEncodesIdentically(_ preset: PreTokenizer) throws {
        var trainer = BPETrainer(vocabularySize: 400, preTokenizer: preset)
        trainer.count(String(repeating: "北京欢迎你！Beijing welcomes you, 2008 times.\r\n", count: 10))
        let tokenizer = try trainer.train()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-\(UUID().uuidString)-tokenizer.json")
        defer { try? FileManager.default.removeItem(at: url) }
        try tokenizer.write(to: url)
        let loaded = try BPETokenizer(contentsOf: url)
        #expect(loaded.preTokenizer == preset)
        #expect(loaded.specialTokens == tokenizer.specialTokens)
        for seed in 0..<200 {
            let text = TokenizerTests.randomText(seed: UInt64(seed)) + "北京欢迎你 Beijing"
            #expect(loaded.encode(text) == tokenizer.encode(text), "\(preset) seed \(seed)")
        }
        let ranks = tokenizer.tiktokenRanks().split(separator: "\n")
        #expect(ranks.count == tokenizer.model.tokenBytes.filter { !$0.isEmpty }.count)
        #expect(ranks.first == "AA== 1")   // byte 0 after the one special token
    }
}
