import ArgumentParser
import Foundation
import LianData
import LianTokenizer

/// `lian data ...`: turn raw text into clean, deduplicated, tokenized training shards.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Prepare training data: read, clean, deduplicate, split, tokenize.",
        subcommands: [DataPrepareCommand.self])
}

struct DataPrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare", abstract: "Read → clean → dedup (exact, near) → split → token shards, with a report.")

    @Option(name: .customLong("input"), parsing: .upToNextOption, help: "Files, directories or globs (.txt .md .jsonl, .gz).")
    var inputs: [String]

    @Option(help: "tokenizer.json to tokenize with.")
    var tokenizer: String

    @Option(help: "Output folder (train.bin, val.bin, report.json, rejects.jsonl, duplicates.jsonl).")
    var out: String

    @Option(help: "How .txt/.md files become documents: whole, paragraphs, lines, or 'separator:%' (lines equal to %).")
    var documents: String = "paragraphs"

    @Option(help: "The text field of .jsonl lines.")
    var textField: String = "text"

    @Option(help: "Near-duplicate Jaccard threshold (0 turns near dedup off).")
    var threshold: Double = 0.8

    @Option(help: "MinHash permutations.")
    var permutations: Int = 128

    @Option(help: "Shingle size in units (characters for Han/kana, words elsewhere).")
    var shingle: Int = 5

    @Option(help: "Share of documents for validation.")
    var validationFraction: Double = 0.01

    @Option(help: "Minimum document length in characters.")
    var minCharacters: Int = 20

    @Option(help: "Allowed scripts, comma-separated (han, latin, kana, hangul, cyrillic, arabic, other); all when absent.")
    var scripts: String?

    @Option(help: "Seed for the split.")
    var seed: UInt64 = 1

    func run() throws {
        var pipeline = DataPipeline()
        switch documents {
        case "whole": pipeline.reader.textMode = .whole
        case "paragraphs": pipeline.reader.textMode = .paragraphs
        case "lines": pipeline.reader.textMode = .lines
        case let s where s.hasPrefix("separator:"): pipeline.reader.textMode = .separatedBy(String(s.dropFirst("separator:".count)))
        default: throw ValidationError("--documents '\(documents)' is not whole, paragraphs, lines or separator:TEXT")
        }
        pipeline.reader.jsonField = textField
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in [0, 1]") }
        pipeline.nearDuplicates = threshold > 0 ? NearDuplicateFinder(threshold: threshold, permutations: permutations, shingleSize: shingle) : nil
        guard validationFraction >= 0 && validationFraction < 1 else { throw ValidationError("--validation-fraction must be in [0, 1)") }
        pipeline.validationFraction = validationFraction
        pipeline.cleaner.minimumCharacters = minCharacters
        if let scripts {
            var set = Set<Cleaner.Script>()
            for name in scripts.split(separator: ",") {
                guard let s = Cleaner.Script(rawValue: String(name)) else { throw ValidationError("--scripts: unknown script '\(name)'") }
                set.insert(s)
            }
            pipeline.cleaner.allowedScripts = set
        }
        pipeline.seed = seed
        guard FileManager.default.isReadableFile(atPath: tokenizer) else {
            throw CLIError("\(tokenizer): no such tokenizer file (make one with `lian tokenizer train`)")
        }
        let report: DataPipeline.Report
        let tokenizerPath = tokenizer
        do {
            // The tokenizer loads while the first file is read.
            report = try pipeline.run(inputs: inputs, loadingTokenizer: { try loadTokenizer(tokenizerPath) },
                                      outputDirectory: URL(fileURLWithPath: out)) {
                FileHandle.standardError.write(Data("\u{1B}[2K\r\($0)…".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("\u{1B}[2K\r".utf8))
            throw (error as? DataError).map { CLIError($0.description) } ?? error
        }
        FileHandle.standardError.write(Data("\u{1B}[2K\r".utf8))
        func line(_ name: String, _ c: DataPipeline.StageCounts, _ extra: String = "") -> String {
            name.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "%9d documents %12d characters", c.documents, c.characters) + extra
        }
        print("lian data prepare → \(out)  (\(String(format: "%.1f", report.seconds)) s)")
        print(line("read", report.read))
        print(line("cleaned", report.cleaned, "   rejected: " + report.rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        print(line("after exact dedup", report.afterExactDedup, "   \(report.exactDuplicateClusters) clusters"))
        print(line("after near dedup", report.afterNearDedup, "   \(report.nearDuplicateClusters) clusters"))
        print(line("train", report.train, "   \(report.trainTokens) tokens"))
        print(line("validation", report.validation, "   \(report.validationTokens) tokens"))
        print("near-duplicates across the split: \(report.crossSplitNearDuplicates)")
        print("details: report.json, rejects.jsonl, duplicates.jsonl")
    }
}
