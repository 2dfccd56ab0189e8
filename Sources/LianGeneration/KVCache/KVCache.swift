import LianNN

/// Incremental decoding with a key/value cache: each new token runs through the model alone,
/// attending to the keys and values cached for the tokens before it, so a step costs O(T) instead
/// of a full O(T²) forward pass over the window.
public protocol KVCache: AnyObject {
    /// Tokens fed so far.
    var length: Int { get }
    /// Whether the context is full (no further position fits).
    var isFull: Bool { get }
    /// Feeds one token at the next position; returns the logits for the token after it.
    func step(_ id: Int32) -> [Float]
}

/// A fresh cache for `model`, or nil for an architecture without one.
public func makeKVCache(for model: any LanguageModel) -> (any KVCache)? {
    if let gpt2 = model as? GPT2 { return GPT2KVCache(model: gpt2) }
    if let llama = model as? Llama { return LlamaKVCache(model: llama) }
    return nil
}
