import LianTokenizer

/// Turns conversations into token ids with a mask of the tokens the model learns (the assistant
/// turns and the end token after each), and prompts into ids for generation.
///
/// ChatML, when the tokenizer has `<|im_start|>` and `<|im_end|>` as special tokens (Lian's
/// tokenizers reserve them):
///     <|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n{content}<|im_end|>\n
/// otherwise a plain-text form that ends each answer with the end-of-text token:
///     ### User:\n{content}\n\n### Assistant:\n{content}<|endoftext|>\n\n
/// Each piece is encoded on its own, the same way in training and in generation.
public struct ChatTemplate: Sendable {
    public enum Style: String, Codable, Sendable { case chatML = "chatml", plain }

    public let style: Style
    public let tokenizer: BPETokenizer
    /// The token that ends an answer (generation stops there).
    public let endToken: Int32
    let startToken: Int32?

    public init(tokenizer: BPETokenizer, endOfText: String = "<|endoftext|>") throws {
        self.tokenizer = tokenizer
        if let start = tokenizer.specialTokens["<|im_start|>"], let end = tokenizer.specialTokens["<|im_end|>"] {
            style = .chatML; startToken = start; endToken = end
        } else if let eos = tokenizer.specialTokens[endOfText] {
            style = .plain; startToken = nil; endToken = eos
        } else {
            throw DataError(path: "tokenizer", "has neither <|im_start|>/<|im_end|> nor \(endOfText) as special tokens; a chat template needs an end token")
        }
    }

    func header(_ role: ChatMessage.Role) -> [Int32] {
        switch style {
        case .chatML: [startToken!] + tokenizer.encode(role.rawValue + "\n")
        case .plain: tokenizer.encode("### " + role.rawValue.prefix(1).uppercased() + role.rawValue.dropFirst() + ":\n")
        }
    }

    func footer() -> [Int32] { tokenizer.encode(style == .chatML ? "\n" : "\n\n") }

    /// Ids of the whole conversation and, per id, whether the model is trained to predict it.
    public func encode(_ example: ChatExample) -> (ids: [Int32], trained: [Bool]) {
        var ids: [Int32] = [], trained: [Bool] = []
        func add(_ piece: [Int32], _ learn: Bool) { ids += piece; trained += Array(repeating: learn, count: piece.count) }
        for m in example.messages {
            add(header(m.role), false)
            let content = tokenizer.encode(m.content)
            if m.role == .assistant {
                add(content + [endToken], true)
            } else {
                add(content + (style == .chatML ? [endToken] : []), false)
            }
            add(footer(), false)
        }
        return (ids, trained)
    }

    /// The ids that prompt the next assistant turn after `messages`.
    public func prompt(_ messages: [ChatMessage]) -> [Int32] {
        var ids: [Int32] = []
        for m in messages {
            ids += header(m.role) + tokenizer.encode(m.content)
            ids += m.role == .assistant || style == .chatML ? [endToken] : []
            ids += footer()
        }
        return ids + header(.assistant)
    }

    /// The template as a Jinja string for tokenizer_config.json (transformers' apply_chat_template).
    public var jinja: String {
        switch style {
        case .chatML:
            return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        case .plain:
            return "{% for message in messages %}{{ '### ' + message['role'][0]|upper + message['role'][1:] + ':\\n' + message['content'] }}{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '### Assistant:\\n' }}{% endif %}"
        }
    }
}
