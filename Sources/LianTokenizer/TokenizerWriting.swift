import Foundation

// Writing a tokenizer: Hugging Face's tokenizer.json (which transformers and `tokenizers` load)
// and tiktoken's ranks file (base64 of each token's bytes, a space, its rank; one per line).

extension BPETokenizer {
    /// The tokenizer.json document.
    public func huggingFaceJSON() throws -> Data {
        var vocab: [String: Int] = [:]
        for (id, bytes) in model.tokenBytes.enumerated() where !bytes.isEmpty { vocab[ByteLevel.string(for: bytes)] = id }
        for (content, id) in specialTokens { vocab[content] = Int(id) }
        let merges = model.mergeList.map { [ByteLevel.string(for: model.tokenBytes[Int($0.0)]), ByteLevel.string(for: model.tokenBytes[Int($0.1)])] }
        let added: [[String: Any]] = specialTokens.sorted { $0.value < $1.value }.map { content, id in
            ["id": Int(id), "content": content, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]
        let document: [String: Any] = [
            "version": "1.0",
            "truncation": NSNull(), "padding": NSNull(), "normalizer": NSNull(),
            "added_tokens": added,
            "pre_tokenizer": [
                "type": "Sequence",
                "pretokenizers": [
                    ["type": "Split", "pattern": ["Regex": Self.pattern(for: preTokenizer)], "behavior": "Isolated", "invert": false],
                    byteLevel,
                ],
            ],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false,
                "ignore_merges": model.ignoreMerges, "vocab": vocab, "merges": merges,
            ] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// Writes tokenizer.json atomically.
    public func write(to url: URL) throws {
        do {
            let data = try huggingFaceJSON()
            let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
            try data.write(to: temporary)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            throw TokenizerError(path: url.path, "cannot write the tokenizer: \(error.localizedDescription)")
        }
    }

    /// tiktoken's ranks file: every BPE token (not the special tokens) as `base64 rank`.
    public func tiktokenRanks() -> String {
        var lines: [String] = []
        for (id, bytes) in model.tokenBytes.enumerated() where !bytes.isEmpty {
            lines.append("\(Data(bytes).base64EncodedString()) \(id)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
