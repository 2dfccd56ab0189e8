import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTokenizer

/// Text generation: encode the prompt, then sample one token at a time, streaming text out through
/// a UTF-8-safe decoder. GPT-2 and LLaMA models decode incrementally with a key/value cache; with
/// `useCache: false` each step recomputes the last `contextLength` tokens.
public struct Generator {
    public let model: any LanguageModel
    public let tokenizer: BPETokenizer

    public init(model: any LanguageModel, tokenizer: BPETokenizer) {
        self.model = model; self.tokenizer = tokenizer
    }

    /// Generates up to `maxTokens` tokens after `prompt`; stops at the end-of-text token or at the
    /// first of the `stop` strings, which is not emitted (nor anything after it). `emit` receives
    /// text as it is produced (never a broken character). Returns the generated ids.
    @discardableResult
    public func generate(prompt: String, maxTokens: Int, settings: SamplingSettings, seed: UInt64,
                         stop: [String] = [], endOfText: String = "<|endoftext|>", useCache: Bool = true,
                         emit: (String) -> Void = { _ in }) -> [Int32] {
        var ids = tokenizer.encode(prompt)
        if ids.isEmpty, let eos = tokenizer.specialTokens[endOfText] { ids = [eos] }
        return generate(promptIDs: ids, maxTokens: maxTokens, settings: settings, seed: seed, stop: stop,
                        stopTokens: tokenizer.specialTokens[endOfText].map { [$0] } ?? [], useCache: useCache, emit: emit)
    }

    /// As above from prompt ids (a chat template's), stopping at any of `stopTokens`.
    @discardableResult
    public func generate(promptIDs: [Int32], maxTokens: Int, settings: SamplingSettings, seed: UInt64, stop: [String] = [],
                         stopTokens: Set<Int32>, useCache: Bool = true, emit: (String) -> Void = { _ in }) -> [Int32] {
        var ids = promptIDs
        let promptCount = ids.count
        var rng = SeededRandom(seed: seed)
        let stream = StreamingDecoder(tokenizer)
        var stops = StopStrings(stop)
        var utf8 = settings.validUTF8
            ? UTF8Constraint(tokenBytes: (0..<tokenizer.vocabularySize).map { tokenizer.decodeBytes([Int32($0)]) }) : nil
        // With a cache, the prompt is fed token by token and each new token once; when the context
        // is full the cache is rebuilt from the last half of the window.
        var cache: (any KVCache)? = useCache ? makeKVCache(for: model) : nil
        var cachedLogits: [Float] = []
        if let c = cache { for id in ids.suffix(model.contextLength) { cachedLogits = c.step(id) } }
        for _ in 0..<maxTokens {
            let last: [Float]
            if cache != nil {
                last = cachedLogits
            } else {
                let window = Array(ids.suffix(model.contextLength))
                let logits = withNoGrad { model(IndexTensor(shape: [1, window.count], values: window)) }
                let vocabulary = logits.shape[2]
                last = Array(logits.scalars[((window.count - 1) * vocabulary)...])
            }
            var logits = Array(last.prefix(tokenizer.vocabularySize))
            utf8?.mask(&logits)
            let next = Sampler.sample(logits, settings: settings, previous: Array(ids[promptCount...]), rng: &rng)
            utf8?.accept(next)
            if stopTokens.contains(next) { break }
            ids.append(next)
            if let c = cache {
                if c.isFull, let fresh = makeKVCache(for: model) {
                    for id in ids.suffix(model.contextLength / 2 + 1) { cachedLogits = fresh.step(id) }
                    cache = fresh
                } else {
                    cachedLogits = c.step(next)
                }
            }
            emit(stops.add(stream.add(next)))
            if stops.stopped { break }
        }
        // A character left unfinished at the token budget is dropped rather than shown as U+FFFD.
        let rest = stream.finish()
        if utf8.map({ $0.open.isEmpty }) ?? true { emit(stops.add(rest)) }
        emit(stops.finish())
        return Array(ids[promptCount...])
    }
}
