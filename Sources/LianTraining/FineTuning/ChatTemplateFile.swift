import Foundation
import LianData
import LianTensor

/// tokenizer_config.json beside tokenizer.json: the chat template (as transformers'
/// `apply_chat_template` reads it) and the special tokens it uses, so a fine-tuned model carries
/// the format it was trained on.
public enum ChatTemplateFile {
    public static func write(_ template: ChatTemplate, to folder: URL) throws {
        let eos = template.tokenizer.specialTokens.first { $0.value == template.endToken }?.key ?? "<|endoftext|>"
        let object: [String: Any] = [
            "chat_template": template.jinja, "eos_token": eos, "tokenizer_class": "PreTrainedTokenizerFast",
            "lian_chat_style": template.style.rawValue, "model_max_length": 1_000_000,
        ]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]),
                             to: folder.appendingPathComponent("tokenizer_config.json"))
    }
}
