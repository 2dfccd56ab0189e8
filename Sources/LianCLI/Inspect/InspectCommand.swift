import ArgumentParser
import Foundation
import LianGeneration
import LianNN
import LianTokenizer

/// `lian inspect ...`: look at each stage of the chain on your own model.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "See inside a model: tokens, next-token probabilities, attention, embeddings.",
        subcommands: [InspectTokensCommand.self, InspectNextCommand.self, InspectAttentionCommand.self, InspectEmbeddingCommand.self])
}

/// Where the model and its tokenizer are.
struct ModelOptions: ParsableArguments {
    @Option(help: "A model folder (a checkpoint or any GPT-2/LLaMA Hugging Face folder).") var model: String
    @Option(help: "tokenizer.json (default: the model folder's).") var tokenizer: String?
    @Option(help: "A LoRA adapter folder to apply.") var adapter: String?

    func load() throws -> (model: any LanguageModel, tokenizer: BPETokenizer) {
        let folder = URL(fileURLWithPath: model)
        let loaded: any LanguageModel
        do {
            loaded = try HuggingFaceFolder.loadModel(from: folder)
            if let adapter { try PEFTAdapterFolder.load(into: loaded, from: URL(fileURLWithPath: adapter)) }
        } catch let e as ModelError { throw CLIError(e.description) }
        return (loaded, try loadTokenizer(tokenizer ?? folder.appendingPathComponent("tokenizer.json").path))
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct InspectTokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokens", abstract: "Pieces, ids and bytes per token of a text.")
    @Argument(help: "The text.") var text: String
    @Option(help: "A model folder (its tokenizer.json is used).") var model: String?
    @Option(help: "A tokenizer.json.") var tokenizer: String?
    @Flag(help: "Print JSON.") var json = false

    struct Token: Codable { var id: Int32; var piece: String; var bytes: [UInt8] }
    struct Report: Codable { var text: String; var tokens: [Token]; var bytes: Int; var bytesPerToken: Double
        enum CodingKeys: String, CodingKey { case text, tokens, bytes, bytesPerToken = "bytes_per_token" } }

    func run() throws {
        guard let path = tokenizer ?? model.map({ URL(fileURLWithPath: $0).appendingPathComponent("tokenizer.json").path }) else {
            throw ValidationError("give --model DIR or --tokenizer tokenizer.json")
        }
        let tok = try loadTokenizer(path)
        let ids = tok.encode(text)
        let tokens = ids.map { Token(id: $0, piece: Inspector.piece(tok, $0), bytes: tok.decodeBytes([$0])) }
        let bytes = text.utf8.count
        let report = Report(text: text, tokens: tokens, bytes: bytes, bytesPerToken: Double(bytes) / Double(max(1, ids.count)))
        if json { try printJSON(report); return }
        print("\(ids.count) tokens, \(bytes) bytes, \(String(format: "%.2f", report.bytesPerToken)) bytes per token")
        print("pieces: " + tokens.map { "[\($0.piece)]" }.joined(separator: " "))
        print("ids:    " + ids.map(String.init).joined(separator: " "))
        for t in tokens { print(String(format: "%6d  %@  %@", t.id, t.bytes.map { String(format: "%02x", $0) }.joined(separator: " ") as NSString, t.piece as NSString)) }
    }
}

struct InspectNextCommand: ParsableCommand {
    /// A piece on one line: newlines and tabs shown as escapes.
    static func shown(_ piece: String) -> String {
        piece.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
    }

    static let configuration = CommandConfiguration(commandName: "next", abstract: "The next-token distribution after a text (and along a greedy continuation).")
    @Argument(help: "The text.") var text: String
    @OptionGroup var options: ModelOptions
    @Option(help: "Candidates to show.") var top: Int = 10
    @Option(help: "Greedy steps to walk, showing the distribution at each.") var steps: Int = 1
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let (model, tok) = try options.load()
        let ids = tok.encode(text)
        guard !ids.isEmpty else { throw ValidationError("the text has no tokens") }
        let walk = Inspector.greedyWalk(model, tokenizer: tok, ids: ids, steps: steps, top: top)
        if json { try printJSON(walk); return }
        for (i, d) in walk.enumerated() {
            if steps > 1 { print("\nstep \(i + 1): after “\(d.context)”") } else { print("after “\(d.context)”:") }
            print(String(format: "entropy %.2f bits (of %.1f possible)", d.entropyBits, log2(Double(tok.vocabularySize))))
            for c in d.top {
                let bar = String(repeating: "█", count: Int((c.probability * 40).rounded()))
                print(String(format: "  %-14@ %7.4f  %@", ("“" + Self.shown(c.piece) + "”") as NSString, c.probability, bar as NSString))
            }
        }
    }
}

struct InspectAttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attention", abstract: "Which earlier tokens each token attends to: heatmaps (SVG) and the top for the last token.")
    @Argument(help: "The text.") var text: String
    @OptionGroup var options: ModelOptions
    @Option(help: "Only this layer (default: all).") var layer: Int?
    @Option(help: "Only this head (default: all).") var head: Int?
    @Option(help: "Folder for the heatmaps.") var out: String = "attention"
    @Option(help: "Attended tokens to list for the last position.") var top: Int = 5
    @Flag(help: "Print JSON.") var json = false

    struct Entry: Codable { var layer: Int; var head: Int; var image: String; var lastTokenTop: [Attended]
        enum CodingKeys: String, CodingKey { case layer, head, image, lastTokenTop = "last_token_top" } }
    struct Attended: Codable { var position: Int; var piece: String; var weight: Double }

    func run() throws {
        let (model, tok) = try options.load()
        let ids = Array(tok.encode(text).suffix(model.contextLength))
        guard !ids.isEmpty else { throw ValidationError("the text has no tokens") }
        let maps = Inspector.attention(model, ids: ids)
        let layers = layer.map { [$0] } ?? Array(0..<maps.layers)
        let heads = head.map { [$0] } ?? Array(0..<maps.heads)
        guard layers.allSatisfy({ (0..<maps.layers).contains($0) }), heads.allSatisfy({ (0..<maps.heads).contains($0) }) else {
            throw ValidationError("the model has layers 0…\(maps.layers - 1) and heads 0…\(maps.heads - 1)")
        }
        let labels = ids.map { Inspector.piece(tok, $0) }
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var entries: [Entry] = []
        for l in layers {
            for h in heads {
                let file = folder.appendingPathComponent("layer\(l)-head\(h).svg")
                let svg = HeatmapSVG.render(maps.probabilities[l][h][...], size: ids.count, labels: labels, title: "layer \(l), head \(h)")
                try Data(svg.utf8).write(to: file)
                let last = maps.row(layer: l, head: h, query: ids.count - 1)
                let ranked = last.indices.sorted { last[$0] > last[$1] }.prefix(top).map { j in
                    Attended(position: j - last.startIndex, piece: labels[j - last.startIndex], weight: Double(last[j]))
                }
                entries.append(Entry(layer: l, head: h, image: file.path, lastTokenTop: ranked))
            }
        }
        if json { try printJSON(entries); return }
        print("\(ids.count) tokens: " + labels.map { "[\($0)]" }.joined(separator: " "))
        print("the last token “\(labels.last!)” attends most to:")
        for e in entries {
            print(String(format: "  layer %2d head %2d  ", e.layer, e.head)
                  + e.lastTokenTop.map { String(format: "“%@”@%d %.2f", $0.piece as NSString, $0.position, $0.weight) }.joined(separator: "  "))
        }
        print("heatmaps: \(folder.path)/layerL-headH.svg (open in a browser)")
    }
}

struct InspectEmbeddingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embedding", abstract: "Nearest tokens by cosine similarity in the input embedding, and a 2-D PCA image of chosen words.")
    @Argument(help: "The word (several tokens are averaged).") var word: String
    @OptionGroup var options: ModelOptions
    @Option(help: "Neighbours to list.") var top: Int = 10
    @Option(parsing: .upToNextOption, help: "Words to place in the PCA image (default: the word and its neighbours).") var words: [String] = []
    @Option(help: "Where the PCA image goes.") var image: String = "embedding-pca.svg"
    @Flag(help: "Print JSON.") var json = false

    struct Report: Codable { var word: String; var ids: [Int32]; var neighbours: [EmbeddingNeighbour]; var image: String; var explainedVariance: Double
        enum CodingKeys: String, CodingKey { case word, ids, neighbours, image, explainedVariance = "explained_variance" } }

    func run() throws {
        let (model, tok) = try options.load()
        let ids = tok.encode(word)
        guard !ids.isEmpty else { throw ValidationError("the word has no tokens") }
        let neighbours = Inspector.nearestTokens(to: word, model: model, tokenizer: tok, top: top)
        let chosen = words.isEmpty ? [word] + neighbours.map(\.piece) : words
        let vectors = chosen.map { Inspector.embedding(of: $0, model: model, tokenizer: tok).vector }
        let (points, explained) = Inspector.principalComponents(vectors)
        try Data(ScatterSVG.render(points, labels: chosen, title: String(format: "input embeddings, PCA (%.0f%% of the variance)", 100 * explained)).utf8)
            .write(to: URL(fileURLWithPath: image))
        let report = Report(word: word, ids: ids, neighbours: neighbours, image: image, explainedVariance: explained)
        if json { try printJSON(report); return }
        print("“\(word)” = tokens \(ids.map { "[\(Inspector.piece(tok, $0))]" }.joined(separator: " "))\(ids.count > 1 ? " (embeddings averaged)" : "")")
        for n in neighbours { print(String(format: "  %-14@ cosine %.3f", ("“" + n.piece + "”") as NSString, n.cosine)) }
        print("PCA of \(chosen.count) words: \(image) (\(String(format: "%.0f", 100 * explained))% of their variance in two dimensions)")
    }
}
