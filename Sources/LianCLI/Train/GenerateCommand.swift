import ArgumentParser
import Foundation
import LianGeneration
import LianNN
import LianTokenizer

/// `lian generate`: continue a prompt with a trained model, streaming the text as it comes.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate text from a model folder.")

    @Option(help: "A model folder (a checkpoint, or any GPT-2/LLaMA Hugging Face folder).")
    var model: String

    @Option(help: "tokenizer.json (default: the one in the model folder).")
    var tokenizer: String?

    @Option(help: "The prompt.")
    var prompt: String = ""

    @Option var maxTokens: Int = 200
    @Option(help: "0 is greedy.") var temperature: Float = 0.8
    @Option var topK: Int = 50
    @Option var topP: Float = 0.95
    @Option var repetitionPenalty: Float = 1.0
    @Option var seed: UInt64 = 0
    @Option(parsing: .upToNextOption, help: "Stop when the text ends with one of these.") var stop: [String] = []

    func run() throws {
        let folder = URL(fileURLWithPath: model)
        let loaded: any LanguageModel
        do { loaded = try HuggingFaceFolder.loadModel(from: folder) } catch let e as ModelError { throw CLIError(e.description) }
        let tokenizerPath = tokenizer ?? folder.appendingPathComponent("tokenizer.json").path
        let tok = try loadTokenizer(tokenizerPath)
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
        let generator = Generator(model: loaded, tokenizer: tok)
        let settings = SamplingSettings(temperature: temperature, topK: topK > 0 ? topK : nil, topP: topP < 1 ? topP : nil,
                                        repetitionPenalty: repetitionPenalty)
        FileHandle.standardOutput.write(Data(prompt.utf8))
        generator.generate(prompt: prompt, maxTokens: maxTokens, settings: settings, seed: seed, stop: stop) {
            FileHandle.standardOutput.write(Data($0.utf8))
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
