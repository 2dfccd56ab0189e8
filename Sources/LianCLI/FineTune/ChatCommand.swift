import ArgumentParser
import Foundation
import LianData
import LianGeneration
import LianNN
import LianTokenizer

/// `lian chat`: talk to a fine-tuned model in the terminal, with its chat template.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "An interactive terminal chat with a model (and optionally a LoRA adapter).",
        discussion: "Type a message and press Enter. /reset forgets the conversation, /exit (or Ctrl-D) quits.")

    @Option(help: "Model folder (a merged model, a full fine-tune checkpoint, or the base of --adapter).") var model: String
    @Option(help: "A LoRA adapter folder to apply on top.") var adapter: String?
    @Option(help: "tokenizer.json (default: the adapter's, else the model's).") var tokenizer: String?
    @Option(help: "A system message.") var system: String?
    @Option var maxTokens: Int = 256
    @Option(help: "0 is greedy.") var temperature: Float = 0.7
    @Option var topP: Float = 0.9
    @Option var seed: UInt64 = 0

    func run() throws {
        let modelURL = URL(fileURLWithPath: model)
        let loaded: any LanguageModel
        do {
            loaded = try HuggingFaceFolder.loadModel(from: modelURL)
            if let adapter { try PEFTAdapterFolder.load(into: loaded, from: URL(fileURLWithPath: adapter)) }
        } catch let e as ModelError { throw CLIError(e.description) }
        let tokenizerPath = tokenizer ?? [adapter, model].compactMap { $0 }.map { URL(fileURLWithPath: $0).appendingPathComponent("tokenizer.json").path }
            .first { FileManager.default.fileExists(atPath: $0) } ?? modelURL.appendingPathComponent("tokenizer.json").path
        let tok = try loadTokenizer(tokenizerPath)
        let template: ChatTemplate
        do { template = try ChatTemplate(tokenizer: tok) } catch let e as DataError { throw CLIError(e.description) }
        let generator = Generator(model: loaded, tokenizer: tok)
        var messages: [ChatMessage] = system.map { [ChatMessage(.system, $0)] } ?? []
        say("chat with \(model)\(adapter.map { " + \($0)" } ?? "") (\(template.style.rawValue) template) — /reset, /exit")
        var turn: UInt64 = 0
        while true {
            FileHandle.standardOutput.write(Data("\n> ".utf8))
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text == "/exit" { break }
            if text == "/reset" { messages = system.map { [ChatMessage(.system, $0)] } ?? []; say("(conversation forgotten)"); continue }
            if text.isEmpty { continue }
            messages.append(ChatMessage(.user, text))
            var answer = ""
            generator.generate(promptIDs: template.prompt(messages), maxTokens: maxTokens,
                               settings: SamplingSettings(temperature: temperature, topK: nil, topP: topP < 1 ? topP : nil),
                               seed: seed &+ turn, stopTokens: Set([template.endToken] + (tok.specialTokens["<|endoftext|>"].map { [$0] } ?? []))) { piece in
                answer += piece
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            say("")
            messages.append(ChatMessage(.assistant, answer))
            turn += 1
        }
    }
}
