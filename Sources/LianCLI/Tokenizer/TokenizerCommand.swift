import ArgumentParser
import Foundation
import LianTokenizer

/// `lian tokenizer ...`: train, use and measure byte-level BPE tokenizers.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train a byte-level BPE tokenizer, encode and decode with one, measure one.",
        subcommands: [TokenizerTrainCommand.self, TokenizerEncodeCommand.self, TokenizerDecodeCommand.self,
                      TokenizerStatsCommand.self]
    )
}

/// Loads a tokenizer.json, turning its errors into a message for the command line.
func loadTokenizer(_ path: String) throws -> BPETokenizer {
    do {
        return try BPETokenizer(contentsOf: URL(fileURLWithPath: path))
    } catch let error as TokenizerError {
        throw CLIError(error.description)
    }
}

struct TokenizerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a tokenizer on text files.")

    @Option(name: .customLong("input"), parsing: .upToNextOption, help: "Text files to train on.")
    var inputs: [String]

    @Option(help: "Vocabulary size, special tokens and the 256 bytes included.")
    var vocabSize: Int = 8192

    @Option(help: "Pre-tokenizer preset: gpt2, cl100k or cjk.")
    var preset: String = "cjk"

    @Option(help: "Pairs seen fewer times than this are never merged.")
    var minFrequency: Int = 2

    @Option(name: .customLong("special"), parsing: .upToNextOption,
            help: "Special tokens (ids 0, 1, ...); the ChatML pair is reserved for chat fine-tuning.")
    var specials: [String] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

    @Option(help: "Where to write tokenizer.json.")
    var out: String = "tokenizer.json"

    @Option(help: "Also write tiktoken's ranks format here.")
    var tiktokenOut: String?

    func run() throws {
        guard let pre = PreTokenizer(rawValue: preset) else {
            throw ValidationError("--preset '\(preset)' is unknown; choose gpt2, cl100k or cjk")
        }
        guard !inputs.isEmpty else { throw ValidationError("--input needs at least one text file") }
        var trainer = BPETrainer(vocabularySize: vocabSize, minimumFrequency: minFrequency, specialTokens: specials, preTokenizer: pre)
        let total = inputs.reduce(0.0) { $0 + Double((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        let counting = ProgressLine("counting")
        for path in inputs {
            guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such file (given to --input)") }
            do {
                try trainer.count(fileAt: URL(fileURLWithPath: path)) { counting.update(Double($0), of: total, unit: "bytes") }
            } catch let error as TokenizerError { throw CLIError(error.description) }
        }
        counting.finish("\(ProgressLine.short(Double(trainer.bytesCounted))) bytes, \(trainer.chunkCounts.count) distinct chunks")
        let merging = ProgressLine("merging")
        let tokenizer: BPETokenizer
        do {
            tokenizer = try trainer.train { done, wanted in merging.update(Double(done), of: Double(wanted), unit: "merges") }
            try tokenizer.write(to: URL(fileURLWithPath: out))
            if let tiktokenOut { try tokenizer.tiktokenRanks().write(toFile: tiktokenOut, atomically: true, encoding: .utf8) }
        } catch let error as TokenizerError { throw CLIError(error.description) }
        merging.finish("\(tokenizer.model.mergeList.count) merges, vocabulary \(tokenizer.vocabularySize)")
        print("wrote \(out)\(tiktokenOut.map { " and \($0)" } ?? "")")
    }
}

struct TokenizerEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Show the pieces and ids of a text, or encode JSONL lines.")

    @Option(help: "tokenizer.json")
    var tokenizer: String

    @Option(help: "Read {\"text\": ...} lines from this JSONL file and print {\"text\": ..., \"ids\": [...]} lines.")
    var jsonl: String?

    @Flag(help: "Recognise special tokens written in the text.")
    var allowSpecial = false

    @Argument(help: "The text (or '-' for standard input).")
    var text: String?

    func run() throws {
        let tok = try loadTokenizer(tokenizer)
        let allowed = allowSpecial ? Set(tok.specialTokens.keys) : []
        if let jsonl {
            guard let data = FileManager.default.contents(atPath: jsonl) else { throw CLIError("\(jsonl): cannot read the file (given to --jsonl)") }
            for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let text = object["text"] as? String else {
                    throw CLIError("\(jsonl):\(n + 1): not a JSON object with a \"text\" string")
                }
                let out: [String: Any] = ["text": text, "ids": tok.encode(text, allowedSpecial: allowed).map(Int.init)]
                let encoded = try JSONSerialization.data(withJSONObject: out, options: [.withoutEscapingSlashes])
                print(String(decoding: encoded, as: UTF8.self))
            }
            return
        }
        guard var input = text else { throw ValidationError("give a text to encode, or --jsonl FILE") }
        if input == "-" { input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
        let ids = tok.encode(input, allowedSpecial: allowed)
        let pieces = ids.map { id -> String in
            let bytes = tok.decodeBytes([id])
            if let s = String(validating: bytes, as: UTF8.self) { return s.debugDescription }
            return "<" + bytes.map { String(format: "%02X", $0) }.joined(separator: " ") + ">"
        }
        print("\(ids.count) tokens, \(input.utf8.count) bytes (\(String(format: "%.2f", Double(input.utf8.count) / Double(max(1, ids.count)))) bytes/token)")
        print("pieces: " + pieces.joined(separator: " "))
        print("ids:    " + ids.map(String.init).joined(separator: " "))
    }
}

struct TokenizerDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Turn ids back into text.")

    @Option(help: "tokenizer.json")
    var tokenizer: String

    @Argument(help: "Token ids.")
    var ids: [Int32]

    func run() throws {
        let tok = try loadTokenizer(tokenizer)
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= tok.vocabularySize }) {
            throw ValidationError("id \(bad) is outside the vocabulary (0..<\(tok.vocabularySize))")
        }
        print(tok.decode(ids))
    }
}

struct TokenizerStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Compression of a tokenizer on a text, by script.")

    @Option(help: "tokenizer.json")
    var tokenizer: String

    @Option(help: "The text file to measure on.")
    var input: String

    @Option(help: "Use only the first N characters (Unicode scalars) of the file.")
    var characters: Int?

    func run() throws {
        let tok = try loadTokenizer(tokenizer)
        guard let data = FileManager.default.contents(atPath: input) else { throw CLIError("\(input): cannot read the file (given to --input)") }
        var text = String(decoding: data, as: UTF8.self)
        if let characters { text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(characters))) }
        let stats = TokenizerStatistics(tokenizer: tok, text: text)
        print(stats.report())
    }
}
