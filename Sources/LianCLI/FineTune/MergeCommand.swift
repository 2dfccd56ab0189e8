import ArgumentParser
import Foundation
import LianNN

/// `lian merge`: fold a LoRA adapter into its base and write a plain Hugging Face model folder.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Fuse a LoRA/QLoRA adapter (PEFT format) into its base model; writes a Hugging Face folder.")

    @Option(help: "The base model folder the adapter was trained on.") var base: String
    @Option(help: "The adapter folder (adapter_config.json + adapter_model.safetensors).") var adapter: String
    @Option(help: "Where the merged model goes.") var out: String

    func run() throws {
        let baseURL = URL(fileURLWithPath: base), adapterURL = URL(fileURLWithPath: adapter), outURL = URL(fileURLWithPath: out)
        do {
            let model = try HuggingFaceFolder.loadModel(from: baseURL)
            let config = try PEFTAdapterFolder.load(into: model, from: adapterURL)
            model.mergeLoRA()
            model.setTrainable(true)
            try HuggingFaceFolder.save(model, to: outURL)
            // The tokenizer (and chat template) the adapter was trained with, else the base's.
            for name in ["tokenizer.json", "tokenizer_config.json"] {
                let source = [adapterURL, baseURL].map { $0.appendingPathComponent(name) }.first { FileManager.default.fileExists(atPath: $0.path) }
                if let source {
                    try? FileManager.default.removeItem(at: outURL.appendingPathComponent(name))
                    try FileManager.default.copyItem(at: source, to: outURL.appendingPathComponent(name))
                }
            }
            say("merged a rank-\(config.rank) adapter on \(config.targetModules.joined(separator: ", ")) into \(outURL.path)")
        } catch let e as ModelError { throw CLIError(e.description) }
    }
}
