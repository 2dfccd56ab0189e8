import ArgumentParser
import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTokenizer
import LianTraining

/// `lian embed`: sentence embeddings from a model, and training a model into an embedding model.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed", abstract: "Sentence embeddings (encode), and contrastive training of an embedding model (train).",
        subcommands: [EmbedEncodeCommand.self, EmbedTrainCommand.self], defaultSubcommand: EmbedEncodeCommand.self)
}

/// Reads texts: one per line of a .txt, or the `text` field of .jsonl lines.
func readTexts(_ path: String, field: String = "text") throws -> [String] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw CLIError("\(path): cannot read (\(error.localizedDescription))") }
    let lines = text.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    guard path.hasSuffix(".jsonl") else { return lines }
    return try lines.enumerated().map { i, line in
        guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], let t = o[field] as? String else {
            throw CLIError("\(path):\(i + 1): needs a JSON object with a string '\(field)'")
        }
        return t
    }
}

struct EmbedEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Embed texts (mean or last-token pooling, L2-normalized).")
    @OptionGroup var options: ModelOptions
    @Option(help: "Texts: a .txt (one per line) or .jsonl (the text field).") var input: String
    @Option(help: "Where the embeddings go: .safetensors (an index for lian search) or .jsonl.") var out: String
    @Option(help: "mean or last.") var pooling: String = "mean"

    func run() throws {
        guard let p = SentenceEncoder.Pooling(rawValue: pooling) else { throw ValidationError("--pooling must be mean or last") }
        let (model, tok) = try options.load()
        let texts = try readTexts(input)
        let encoder = SentenceEncoder(model: model, tokenizer: tok, pooling: p)
        let progress = ProgressLine("embedding")
        var vectors: [[Float]] = []
        for (i, t) in texts.enumerated() {
            vectors += encoder.encode([t])
            progress.update(Double(i + 1), of: Double(texts.count), unit: "texts")
        }
        progress.finish("\(texts.count) texts × \(encoder.width)")
        if out.hasSuffix(".jsonl") {
            let lines = try zip(texts, vectors).map { t, v in
                String(decoding: try JSONSerialization.data(withJSONObject: ["text": t, "embedding": v.map(Double.init)]), as: UTF8.self)
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
        } else {
            try EmbeddingIndex(texts: texts, vectors: vectors, model: options.model, pooling: p).write(to: URL(fileURLWithPath: out))
        }
        say("wrote \(out)")
    }
}

/// Texts and their embeddings as safetensors: `embeddings` F32 [N, C]; texts, model and pooling
/// in the metadata.
struct EmbeddingIndex {
    var texts: [String], vectors: [[Float]], model: String, pooling: SentenceEncoder.Pooling

    func write(to url: URL) throws {
        let textsJSON = String(decoding: try JSONSerialization.data(withJSONObject: texts), as: UTF8.self)
        var writer = SafeTensorsWriter(metadata: ["format": "lian-embeddings", "texts": textsJSON, "model": model, "pooling": pooling.rawValue])
        writer.add("embeddings", Tensor(shape: [vectors.count, vectors.first?.count ?? 0], values: vectors.flatMap { $0 }))
        try writer.write(to: url)
    }

    static func read(_ url: URL) throws -> EmbeddingIndex {
        let file = try SafeTensorsFile(url: url)
        guard let textsJSON = file.metadata["texts"], let texts = try? JSONSerialization.jsonObject(with: Data(textsJSON.utf8)) as? [String],
              let model = file.metadata["model"], let pooling = file.metadata["pooling"].flatMap(SentenceEncoder.Pooling.init) else {
            throw CLIError("\(url.path): not an index written by lian embed (metadata texts, model, pooling)")
        }
        let e = try file.tensor("embeddings")
        let c = e.shape.count == 2 ? e.shape[1] : 0
        let s = e.scalars
        return EmbeddingIndex(texts: texts, vectors: (0..<texts.count).map { Array(s[($0 * c)..<(($0 + 1) * c)]) }, model: model, pooling: pooling)
    }
}

struct EmbedTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train an embedding model on (query, positive) pairs: InfoNCE with in-batch negatives.")
    @OptionGroup var options: ModelOptions
    @Option(help: "JSONL of {\"query\": ..., \"positive\": ...}.") var pairs: String
    @Option(help: "Output folder (the model, or with --lora the adapter).") var out: String
    @Option var steps: Int = 200
    @Option var batchSize: Int = 16
    @Option(help: "Softmax temperature τ of the similarities.") var temperature: Float = 0.05
    @Option var learningRate: Double = 1e-4
    @Option(help: "mean or last.") var pooling: String = "mean"
    @Flag(help: "Train LoRA adapters (r 8 on all linear layers) instead of every weight.") var lora = false
    @Option(help: "Fraction of the pairs held out for recall@1.") var validationFraction: Double = 0.1
    @Option var seed: UInt64 = 1

    func run() throws {
        guard let p = SentenceEncoder.Pooling(rawValue: pooling) else { throw ValidationError("--pooling must be mean or last") }
        let (model, tok) = try options.load()
        var all: [TextPair]
        do { all = try TextPair.read(URL(fileURLWithPath: pairs)) } catch let e as TrainingError { throw CLIError(e.description) }
        var rng = SeededRandom(seed: seed)
        for i in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let held = max(2, Int(Double(all.count) * validationFraction))
        let validation = Array(all.prefix(held)), train = Array(all.dropFirst(held))
        let encoder = SentenceEncoder(model: model, tokenizer: tok, pooling: p)
        func recall() -> Double {
            VectorSearch.recallAt1(queries: encoder.encode(validation.map(\.query)), positives: encoder.encode(validation.map(\.positive)))
        }
        let before = recall()
        say(String(format: "%d training pairs, %d held out; recall@1 before: %.3f", train.count, validation.count, before))
        let loraConfig = LoRAConfig(rank: 8, alpha: 16, targetModules: ["all-linear"])
        if lora { try model.attachLoRA(loraConfig, seed: seed) } else { model.setTrainable(true) }
        let trainer = ContrastiveTrainer(encoder: encoder, temperature: temperature, seed: seed)
        let progress = ProgressLine("training")
        var recent: [Float] = []
        for s in 0..<steps {
            let l = trainer.step(train, batchSize: batchSize, learningRate: learningRate)
            recent.append(l); if recent.count > 20 { recent.removeFirst() }
            progress.update(Double(s + 1), of: Double(steps), unit: "steps")
        }
        progress.finish(String(format: "%d steps, InfoNCE loss of the last 20: %.3f", steps, recent.reduce(0, +) / Float(max(1, recent.count))))
        let after = recall()
        say(String(format: "recall@1 on held-out pairs: %.3f → %.3f", before, after))
        let outURL = URL(fileURLWithPath: out)
        if lora {
            try PEFTAdapterFolder.save(model, config: loraConfig, baseModel: options.model, to: outURL)
        } else {
            try HuggingFaceFolder.save(model, to: outURL)
        }
        try? FileManager.default.copyItem(at: URL(fileURLWithPath: options.tokenizer ?? options.model + "/tokenizer.json"), to: outURL.appendingPathComponent("tokenizer.json"))
        let meta = ["pooling": p.rawValue, "normalize": "l2", "recall_at_1_before": String(before), "recall_at_1_after": String(after)]
        try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys]).write(to: outURL.appendingPathComponent("embedding_config.json"))
        say("wrote \(outURL.path)")
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "The texts of an embedding index nearest to a query.")
    @Argument(help: "The query.") var query: String
    @Option(help: "An index written by lian embed (.safetensors).") var index: String
    @Option(help: "The model (default: the one the index was made with).") var model: String?
    @Option(help: "A LoRA adapter to apply.") var adapter: String?
    @Option var top: Int = 5

    func run() throws {
        let idx = try EmbeddingIndex.read(URL(fileURLWithPath: index))
        let folder = URL(fileURLWithPath: model ?? idx.model)
        let loaded: any LanguageModel
        do {
            loaded = try HuggingFaceFolder.loadModel(from: folder)
            if let adapter { try PEFTAdapterFolder.load(into: loaded, from: URL(fileURLWithPath: adapter)) }
        } catch let e as ModelError { throw CLIError(e.description) }
        let tok = try loadTokenizer(folder.appendingPathComponent("tokenizer.json").path)
        let q = SentenceEncoder(model: loaded, tokenizer: tok, pooling: idx.pooling).encode([query])[0]
        for (i, score) in VectorSearch.nearest(q, in: idx.vectors, top: top) {
            print(String(format: "%.3f  %@", score, idx.texts[i].replacingOccurrences(of: "\n", with: " ⏎ ") as NSString))
        }
    }
}
