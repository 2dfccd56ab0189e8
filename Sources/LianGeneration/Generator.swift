import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTokenizer

/// Text generation: encode the prompt, then repeatedly run the model on the last `contextLength`
/// tokens and sample the next one, streaming text out through a UTF-8-safe decoder. (This version
/// recomputes the whole window each step; a KV cache is the next step.)
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
                         stop: [String] = [], endOfText: String = "<|endoftext|>", emit: (String) -> Void = { _ in }) -> [Int32] {
        var ids = tokenizer.encode(prompt)
        if ids.isEmpty, let eos = tokenizer.specialTokens[endOfText] { ids = [eos] }
        let promptCount = ids.count
        var rng = SeededRandom(seed: seed)
        let stream = StreamingDecoder(tokenizer)
        var produced = ""
        for _ in 0..<maxTokens {
            let window = Array(ids.suffix(model.contextLength))
            let logits = withNoGrad { model(IndexTensor(shape: [1, window.count], values: window)) }
            let vocabulary = logits.shape[2]
            let last = Array(logits.scalars[((window.count - 1) * vocabulary)...])
            let next = Sampler.sample(Array(last.prefix(tokenizer.vocabularySize)), settings: settings,
                                      previous: Array(ids[promptCount...]), rng: &rng)
            if let eos = tokenizer.specialTokens[endOfText], next == eos { break }
            ids.append(next)
            let text = stream.add(next)
            produced += text
            emit(text)
            if stop.contains(where: { produced.hasSuffix($0) }) { break }
        }
        emit(stream.finish())
        return Array(ids[promptCount...])
    }
}
