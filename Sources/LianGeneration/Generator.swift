import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTokenizer

/// Text generation: encode the prompt, then sample one token at a time, streaming text out through
/// a UTF-8-safe decoder. GPT-2 models decode incrementally with a key/value cache; other models
/// (and `useCache: false`) recompute the last `contextLength` tokens each step.
public struct Generator {
    public let model: any LanguageModel
    public let tokenizer: BPETokenizer

    public init(model: any LanguageModel, tokenizer: BPETokenizer) {
        self.model = model; self.tokenizer = tokenizer
    }

    /// Generates up to `maxTokens` tokens after `prompt`; stops at the end-of-text token or when
    /// the text produced so far ends with one of `stop`. `emit` receives text as it is produced
    /// (never a broken character). Returns the generated ids.
    @discardableResult
    public func generate(prompt: String, maxTokens: Int, settings: SamplingSettings, seed: UInt64,
                         stop: [String] = [], endOfText: String = "<|endoftext|>", useCache: Bool = true,
                         emit: (String) -> Void = { _ in }) -> [Int32] {
        var ids = tokenizer.encode(prompt)
        if ids.isEmpty, let eos = tokenizer.specialTokens[endOfText] { ids = [eos] }
        let promptCount = ids.count
        var rng = SeededRandom(seed: seed)
        let stream = StreamingDecoder(tokenizer)
        var produced = ""
        // With a cache, the prompt is fed token by token and each new token once; when the context
        // is full the cache is rebuilt from the last half of the window.
        var cache: GPT2KVCache? = useCache ? (model as? GPT2).map { GPT2KVCache(model: $0) } : nil
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
            let next = Sampler.sample(Array(last.prefix(tokenizer.vocabularySize)), settings: settings,
                                      previous: Array(ids[promptCount...]), rng: &rng)
            if let eos = tokenizer.specialTokens[endOfText], next == eos { break }
            ids.append(next)
            if let c = cache {
                if c.isFull, let gpt2 = model as? GPT2 {
                    let fresh = GPT2KVCache(model: gpt2)
                    for id in ids.suffix(model.contextLength / 2 + 1) { cachedLogits = fresh.step(id) }
                    cache = fresh
                } else {
                    cachedLogits = c.step(next)
                }
            }
            let text = stream.add(next)
            produced += text
            emit(text)
            if stop.contains(where: { produced.hasSuffix($0) }) { break }
        }
        emit(stream.finish())
        return Array(ids[promptCount...])
    }
}
