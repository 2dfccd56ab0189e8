import Foundation
@testable import LianGeneration
import LianKernels
import LianNN
import LianTensor
import LianTokenizer
import Testing

@Suite struct SamplerTests {
    let logits: [Float] = [2.0, 1.0, 0.5, 3.0, -1.0, 0.0, 2.5, 1.5]

    @Test func temperatureZeroIsGreedy() {
        var rng = SeededRandom(seed: 1)
        for _ in 0..<100 { #expect(Sampler.sample(logits, settings: .greedy, previous: [], rng: &rng) == 3) }
    }

    @Test func topKNeverLeavesTheK() {
        var rng = SeededRandom(seed: 2)
        let allowed: Set<Int32> = [3, 6, 0]   // the three largest logits
        for _ in 0..<5000 {
            let id = Sampler.sample(logits, settings: SamplingSettings(temperature: 1.5, topK: 3, topP: nil), previous: [], rng: &rng)
            #expect(allowed.contains(id), "top-3 sampled \(id)")
        }
    }

    @Test func frequenciesFollowTheSoftmax() {
        var rng = SeededRandom(seed: 3)
        var counts = [Int](repeating: 0, count: logits.count)
        let n = 40_000
        for _ in 0..<n { counts[Int(Sampler.sample(logits, settings: SamplingSettings(temperature: 1, topK: nil, topP: nil), previous: [], rng: &rng))] += 1 }
        let z = logits.map { exp(Double($0)) }.reduce(0, +)
        for (i, c) in counts.enumerated() {
            let p = exp(Double(logits[i])) / z
            let sd = (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(Double(c) / Double(n) - p) < 5 * sd + 1e-4, "token \(i): \(Double(c) / Double(n)) vs \(p)")
        }
    }

    @Test func topPKeepsTheSmallestNucleus() {
        var rng = SeededRandom(seed: 4)
        // Softmax of [10, 9, 0, 0]: the first two hold > 99.9%; top-p 0.5 keeps only the first.
        for _ in 0..<1000 {
            #expect(Sampler.sample([10, 9, 0, 0], settings: SamplingSettings(temperature: 1, topK: nil, topP: 0.5), previous: [], rng: &rng) == 0)
        }
    }

    @Test func repetitionPenaltyDemotesSeenTokens() {
        var rng = SeededRandom(seed: 5)
        #expect(Sampler.sample([2.0, 1.9], settings: SamplingSettings(temperature: 0, topK: nil, topP: nil, repetitionPenalty: 1.5), previous: [0], rng: &rng) == 1)
    }

    @Test func generationIsSeededAndStops() throws {
        var trainer = BPETrainer(vocabularySize: 300, preTokenizer: .gpt2)
        trainer.count("hello world, hello there. the end.")
        let tokenizer = try trainer.train()
        let model = try GPT2(GPT2Config(vocabSize: 300, contextLength: 16, width: 16, layers: 1, heads: 2), seed: 9)
        let generator = Generator(model: model, tokenizer: tokenizer)
        var streamed = ""
        let a = generator.generate(prompt: "hello", maxTokens: 20, settings: SamplingSettings(), seed: 7) { streamed += $0 }
        let b = generator.generate(prompt: "hello", maxTokens: 20, settings: SamplingSettings(), seed: 7)
        #expect(a == b && a.count <= 20)
        // What was streamed is the decoded ids, less a character left unfinished at the budget.
        var decoded = tokenizer.decode(a.filter { $0 != 0 })
        if decoded.hasSuffix("\u{FFFD}") { decoded.removeLast() }
        #expect(streamed == decoded)
        let greedy1 = generator.generate(prompt: "hello", maxTokens: 20, settings: .greedy, seed: 1)
        let greedy2 = generator.generate(prompt: "hello", maxTokens: 20, settings: .greedy, seed: 2)
        #expect(greedy1 == greedy2, "greedy does not depend on the seed")
    }
}

@Suite struct KVCacheTests {
    static func models(vocabulary: Int = 97) throws -> [any LanguageModel] {
        [try GPT2(GPT2Config(vocabSize: vocabulary, contextLength: 24, width: 32, layers: 2, heads: 4), seed: 3),
         // Grouped-query: 4 query heads share 2 key/value heads.
         try Llama(LlamaConfig(vocabSize: vocabulary, width: 32, mlpSize: 48, layers: 2, heads: 4, kvHeads: 2, contextLength: 24), seed: 3)]
    }

    @Test(arguments: [0, 1]) func cachedLogitsEqualTheFullForwardPass(_ which: Int) throws {
        let model = try Self.models()[which]
        let ids: [Int32] = (0..<20).map { Int32(($0 * 7 + 3) % 97) }
        let full = withNoGrad { model(IndexTensor(shape: [1, ids.count], values: ids)) }.scalars
        let cache = try #require(makeKVCache(for: model))
        for (t, id) in ids.enumerated() {
            let step = cache.step(id)
            let reference = Array(full[(t * 97)..<((t + 1) * 97)])
            let worst = zip(step, reference).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-4, "\(model.configuration.modelType) position \(t): largest difference \(worst)")
        }
    }

    @Test(arguments: [0, 1]) func greedyWithTheCacheEqualsGreedyWithout(_ which: Int) throws {
        var trainer = BPETrainer(vocabularySize: 300, preTokenizer: .gpt2)
        trainer.count("hello world, hello there. the end.")
        let tokenizer = try trainer.train()
        let model = try Self.models(vocabulary: 300)[which]
        let generator = Generator(model: model, tokenizer: tokenizer)
        // Within the 24-token context (beyond it the two slide their windows differently).
        let cached = generator.generate(prompt: "hello", maxTokens: 15, settings: .greedy, seed: 1, useCache: true)
        let uncached = generator.generate(prompt: "hello", maxTokens: 15, settings: .greedy, seed: 1, useCache: false)
        #expect(cached == uncached)
    }
}

@Suite struct StopStringTests {
    /// Feeds `pieces` one by one and returns everything emitted.
    static func run(_ stops: [String], _ pieces: [String]) -> (text: String, stopped: Bool) {
        var filter = StopStrings(stops)
        var out = ""
        for p in pieces { out += filter.add(p); if filter.stopped { break } }
        out += filter.finish()
        return (out, filter.stopped)
    }

    @Test func trimsAtTheStopStringEvenAcrossPieces() {
        #expect(Self.run(["\n\n"], ["Hello", " world", "\n", "\nmore"]) == ("Hello world", true))
        #expect(Self.run(["END"], ["abcE", "N", "Dxyz"]) == ("abc", true))
        #expect(Self.run(["。"], ["床前明月光", "。疑是"]) == ("床前明月光", true))
    }

    @Test func heldBackTextIsReleasedWhenItIsNotAStop() {
        #expect(Self.run(["END"], ["abcE", "N", "x"]) == ("abcENx", false))
        #expect(Self.run(["END"], ["abcEN"]) == ("abcEN", false), "flushed at the end")
        #expect(Self.run([], ["a", "b"]) == ("ab", false))
    }

    @Test func theEarliestOfSeveralStopsWins() {
        #expect(Self.run(["B", "ABC"], ["xxAB", "C"]) == ("xxA", true))
    }

    @Test func generatorNeverEmitsTheStopString() throws {
        var trainer = BPETrainer(vocabularySize: 300, preTokenizer: .gpt2)
        trainer.count("hello world, hello there. the end.")
        let tokenizer = try trainer.train()
        let model = try GPT2(GPT2Config(vocabSize: 300, contextLength: 64, width: 16, layers: 1, heads: 2), seed: 9)
        let generator = Generator(model: model, tokenizer: tokenizer)
        var full = ""
        generator.generate(prompt: "hello", maxTokens: 40, settings: SamplingSettings(), seed: 7) { full += $0 }
        try #require(full.count >= 4)
        // Pick a stop string that occurs in the unconstrained output: the output must end right before it.
        let stop = String(full.dropFirst(full.count / 2).prefix(2))
        var trimmed = ""
        generator.generate(prompt: "hello", maxTokens: 40, settings: SamplingSettings(), seed: 7, stop: [stop]) { trimmed += $0 }
        let expected = String(full[..<full.range(of: stop)!.lowerBound])
        #expect(trimmed == expected)
    }
}

@Suite struct UTF8ConstraintTests {
    @Test func validatesPrefixesThatMayEndInsideACharacter() {
        let zhong = Array("中".utf8)   // E4 B8 AD
        #expect(UTF8Constraint.openTail(after: [], Array("ab".utf8)) == [])
        #expect(UTF8Constraint.openTail(after: [], Array(zhong.prefix(2))) == Array(zhong.prefix(2)))
        #expect(UTF8Constraint.openTail(after: Array(zhong.prefix(2)), [zhong[2]]) == [])
        #expect(UTF8Constraint.openTail(after: Array(zhong.prefix(1)), Array("a".utf8)) == nil, "a new character inside an open one")
        #expect(UTF8Constraint.openTail(after: [], [0xB8]) == nil, "a continuation byte at a boundary")
        #expect(UTF8Constraint.openTail(after: [], [0xC0, 0x80]) == nil, "overlong")
        #expect(UTF8Constraint.openTail(after: [], [0xED, 0xA0, 0x80]) == nil, "surrogate")
        #expect(UTF8Constraint.openTail(after: [], [0xF4, 0x90]) == nil, "above U+10FFFF")
        #expect(UTF8Constraint.openTail(after: [0xF0, 0x9F], [0x98, 0x80, 0x41]) == [], "😀 then A")
    }

    @Test func sampledChineseNeverHasBrokenCharacters() throws {
        var trainer = BPETrainer(vocabularySize: 300, preTokenizer: .cjk)
        trainer.count("床前明月光，疑是地上霜。举头望明月，低头思故乡。春眠不觉晓，处处闻啼鸟。")
        let tokenizer = try trainer.train()
        // An untrained model puts mass on every byte token: unconstrained, broken characters are
        // all but certain in 60 tokens; constrained, none may appear.
        let model = try GPT2(GPT2Config(vocabSize: 300, contextLength: 64, width: 16, layers: 1, heads: 2), seed: 5)
        let generator = Generator(model: model, tokenizer: tokenizer)
        var broken = 0, brokenUnconstrained = 0
        for seed in 0..<5 {
            var text = "", raw = ""
            generator.generate(prompt: "明月", maxTokens: 60, settings: SamplingSettings(temperature: 1.5, topK: nil, topP: nil), seed: UInt64(seed)) { text += $0 }
            generator.generate(prompt: "明月", maxTokens: 60, settings: SamplingSettings(temperature: 1.5, topK: nil, topP: nil, validUTF8: false),
                               seed: UInt64(seed)) { raw += $0 }
            broken += text.filter { $0 == "\u{FFFD}" }.count
            brokenUnconstrained += raw.filter { $0 == "\u{FFFD}" }.count
        }
        #expect(broken == 0)
        #expect(brokenUnconstrained > 0, "the test would not notice a missing constraint")
    }
}
