import ArgumentParser
import Foundation
import LianTokenizer

/// `lian bench tokenizer`: training time and encoding throughput, with the peers
/// (Hugging Face `tokenizers`, tiktoken) measured by Scripts/bench/tokenizer_peers.py.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Tokenizer training time and encoding MB/s.")

    @OptionGroup var options: BenchOptions

    @Option(name: .customLong("input"), parsing: .upToNextOption, help: "Training files.")
    var inputs: [String] = ["../shared/corpora/en_shakespeare_gut.txt", "../shared/corpora/zh_peoplesdaily_199801.txt"]

    @Option(help: "Vocabulary size.")
    var vocabSize: Int = 8192

    @Option(help: "Pre-tokenizer preset.")
    var preset: String = "cjk"

    @Option(help: "A tokenizer.json to measure encoding with as well (e.g. GPT-2's).")
    var encodeTokenizer: [String] = []

    struct Measurement: Encodable {
        let what: String
        let seconds: Double?
        let megabytesPerSecond: Double?
        let threads: Int?
    }

    func run() throws {
        guard let pre = PreTokenizer(rawValue: preset) else { throw ValidationError("--preset '\(preset)' is unknown") }
        for path in inputs where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("--input \(path): no such file (run from the package root, or pass --input)")
        }
        var report = BenchReport<Measurement>(title: "tokenizer")
        let start = Stopwatch.now()
        var trainer = BPETrainer(vocabularySize: vocabSize, minimumFrequency: 2, specialTokens: ["<|endoftext|>"], preTokenizer: pre)
        for path in inputs { try trainer.count(fileAt: URL(fileURLWithPath: path)) }
        let trained = try trainer.train()
        let trainSeconds = Stopwatch.now() - start
        report.rows.append(Measurement(what: "train \(preset) vocab \(vocabSize)", seconds: trainSeconds, megabytesPerSecond: nil, threads: 1))

        // Encoding: the training text as lines (documents), 1 and 2 threads, cache emptied first.
        let lines = try inputs.flatMap { path in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let bytes = Double(lines.reduce(0) { $0 + $1.utf8.count })
        var tokenizers: [(String, BPETokenizer)] = [("lian \(preset) (trained above)", trained)]
        for path in encodeTokenizer {
            tokenizers.append((URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent, try BPETokenizer(contentsOf: URL(fileURLWithPath: path))))
        }
        for (name, tok) in tokenizers {
            for threads in [1, 2] {
                let fresh = BPETokenizer(model: tok.model, preTokenizer: tok.preTokenizer, specialTokens: tok.specialTokens)
                let t0 = Stopwatch.now()
                _ = fresh.encodeBatch(lines, threads: threads)
                let seconds = Stopwatch.now() - t0
                report.rows.append(Measurement(what: "encode \(name)", seconds: seconds, megabytesPerSecond: bytes / seconds / 1e6, threads: threads))
            }
        }
        if options.json { report.printJSON(); return }
        print("lian bench tokenizer — \(BenchReport<Measurement>.machineLine)")
        print("training text: \(inputs.joined(separator: " + ")) (\(fixed(bytes / 1e6, 1)) MB)\n")
        let cells = report.rows.map { [$0.what, $0.threads.map(String.init) ?? "", $0.seconds.map { fixed($0, 2) } ?? "", $0.megabytesPerSecond.map { fixed($0, 2) } ?? ""] }
        for line in tableLines(header: ["", "threads", "seconds", "MB/s"], rows: cells) { print(line) }
    }
}
