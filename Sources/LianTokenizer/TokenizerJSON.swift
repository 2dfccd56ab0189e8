import Foundation

// Reading Hugging Face `tokenizer.json` files of byte-level BPE models: model.vocab (byte-level
// strings → ids), model.merges (as "a b" strings or as ["a", "b"] pairs), added_tokens, and the
// pre-tokenizers such files use (ByteLevel with its regex, or a Split with the GPT-2 or cl100k
// regex followed by ByteLevel without one).

extension BPETokenizer {
    /// The exact regex patterns of the presets, as tokenizer.json files spell them.
    static let knownPatterns: [String: PreTokenizer] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .cl100k,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{Han}{1,16}|[^\r\n\p{L}\p{N}]?[\p{L}&&[^\p{Han}]]+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .cjk,
    ]

    /// The regex a preset is written with in tokenizer.json (for the cjk preset, the pattern
    /// Hugging Face's Oniguruma engine needs to split the same way).
    static func pattern(for preset: PreTokenizer) -> String {
        knownPatterns.first { $0.value == preset }!.key
    }

    /// Loads a byte-level BPE tokenizer from a Hugging Face `tokenizer.json`.
    public convenience init(contentsOf url: URL) throws {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError(path: path, "cannot read the file (\(error.localizedDescription))")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TokenizerError(path: path, "is not a JSON object; expected a Hugging Face tokenizer.json")
        }
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError(path: path, "has no \"model\" object")
        }
        guard (model["type"] as? String) == "BPE" else {
            throw TokenizerError(path: path, "model.type is '\(model["type"] ?? "missing")'; Lian reads BPE models only")
        }
        if (model["byte_fallback"] as? Bool) == true {
            throw TokenizerError(path: path, "model.byte_fallback is true (a SentencePiece-style BPE); Lian reads byte-level BPE only")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = model[key] as? String, !s.isEmpty {
                throw TokenizerError(path: path, "model.\(key) is '\(s)'; byte-level BPE has none")
            }
        }
        guard let vocab = model["vocab"] as? [String: Int] else {
            throw TokenizerError(path: path, "model.vocab is missing or not an object of integer ids")
        }

        // Added tokens: recognised as whole strings (when allowed), never built by BPE.
        var special: [String: Int32] = [:]
        for (index, entry) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let id = entry["id"] as? Int, let content = entry["content"] as? String else {
                throw TokenizerError(path: path, "added_tokens[\(index)] needs an integer id and a content string")
            }
            special[content] = Int32(id)
        }
        let specialIDs = Set(special.values)

        let size = (vocab.values.max() ?? -1) + 1
        var tokenBytes = [[UInt8]](repeating: [], count: size)
        for (token, id) in vocab {
            guard id >= 0 else { throw TokenizerError(path: path, "model.vocab['\(token)'] has the negative id \(id)") }
            if specialIDs.contains(Int32(id)) { continue }
            guard let bytes = ByteLevel.bytes(of: token) else {
                throw TokenizerError(path: path, "model.vocab entry '\(token)' (id \(id)) is not a byte-level string")
            }
            tokenBytes[id] = bytes
        }

        guard let rawMerges = model["merges"] as? [Any] else {
            throw TokenizerError(path: path, "model.merges is missing or not a list")
        }
        var merges: [(Int32, Int32)] = []
        merges.reserveCapacity(rawMerges.count)
        for (index, raw) in rawMerges.enumerated() {
            let parts: [String]
            if let s = raw as? String {
                parts = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let pair = raw as? [String] {
                parts = pair
            } else {
                throw TokenizerError(path: path, "model.merges[\(index)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
            guard parts.count == 2 else {
                throw TokenizerError(path: path, "model.merges[\(index)] '\(parts.joined(separator: " "))' is not two tokens")
            }
            guard let left = vocab[parts[0]], let right = vocab[parts[1]] else {
                throw TokenizerError(path: path, "model.merges[\(index)] '\(parts[0]) \(parts[1])' names a token that is not in model.vocab")
            }
            merges.append((Int32(left), Int32(right)))
        }

        let bpe = try BPEModel(tokenBytes: tokenBytes, merges: merges,
                               ignoreMerges: (model["ignore_merges"] as? Bool) ?? false, path: path)
        let preTokenizer = try Self.preTokenizer(root["pre_tokenizer"], path: path)
        self.init(model: bpe, preTokenizer: preTokenizer, specialTokens: special)
    }

    /// Reads the pre_tokenizer: ByteLevel(use_regex: true), or Sequence[Split(known regex), ByteLevel(use_regex: false)].
    static func preTokenizer(_ value: Any?, path: String) throws -> PreTokenizer {
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError(path: path, "pre_tokenizer is missing; a byte-level BPE needs ByteLevel or a Split with its regex")
        }
        func checkPrefixSpace(_ o: [String: Any]) throws {
            if (o["add_prefix_space"] as? Bool) == true {
                throw TokenizerError(path: path, "pre_tokenizer ByteLevel.add_prefix_space = true is not supported yet")
            }
        }
        switch type {
        case "ByteLevel":
            try checkPrefixSpace(object)
            guard (object["use_regex"] as? Bool) ?? true else {
                throw TokenizerError(path: path, "pre_tokenizer is ByteLevel without a regex and no Split: Lian needs a split pattern")
            }
            return .gpt2
        case "Split":
            return try split(object, path: path)
        case "Sequence":
            let steps = (object["pretokenizers"] as? [[String: Any]]) ?? []
            var found: PreTokenizer?
            for step in steps {
                switch step["type"] as? String {
                case "Split":
                    guard found == nil else { throw TokenizerError(path: path, "pre_tokenizer has two Split steps") }
                    found = try split(step, path: path)
                case "ByteLevel":
                    try checkPrefixSpace(step)
                    if (step["use_regex"] as? Bool) ?? true {
                        guard found == nil else { throw TokenizerError(path: path, "pre_tokenizer splits twice (Split and a ByteLevel regex)") }
                        found = .gpt2
                    }
                default:
                    throw TokenizerError(path: path, "pre_tokenizer step '\(step["type"] ?? "?")' is not supported (Split, ByteLevel)")
                }
            }
            guard let found else { throw TokenizerError(path: path, "pre_tokenizer Sequence has no split") }
            return found
        default:
            throw TokenizerError(path: path, "pre_tokenizer type '\(type)' is not supported (ByteLevel, Split, Sequence)")
        }
    }

    static func split(_ object: [String: Any], path: String) throws -> PreTokenizer {
        guard let pattern = (object["pattern"] as? [String: Any])?["Regex"] as? String else {
            throw TokenizerError(path: path, "pre_tokenizer Split has no pattern.Regex")
        }
        guard let preset = knownPatterns[pattern] else {
            throw TokenizerError(path: path, "pre_tokenizer Split regex \(pattern) is not one Lian implements (the GPT-2 and cl100k patterns)")
        }
        let behavior = (object["behavior"] as? String) ?? "Isolated"
        guard behavior == "Isolated", (object["invert"] as? Bool) != true else {
            throw TokenizerError(path: path, "pre_tokenizer Split behavior '\(behavior)' is not supported (Isolated)")
        }
        return preset
    }
}
