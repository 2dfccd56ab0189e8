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
    @Flag(help: "The adapter was trained on an NF4 base (QLoRA): merge into the dequantized NF4 weights, as trained. Detected from a lian finetune checkpoint.")
    var nf4Base = false

    func run() throws {
        let baseURL = URL(fileURLWithPath: base), adapterURL = URL(fileURLWithPath: adapter), outURL = URL(fileURLWithPath: out)
        do {
            let model = try HuggingFaceFolder.loadModel(from: baseURL)
            // A QLoRA adapter learned against the NF4 weights; merging into them gives the model it
            // was trained as (the Float32 base would differ by the quantization error).
            let state = try? JSONSerialization.jsonObject(with: Data(contentsOf: adapterURL.appendingPathComponent("trainer_state.json"))) as? [String: Any]
            let trainedOnNF4 = nf4Base || ((state?["config"] as? [String: Any])?["method"] as? String) == "qlora"
            if trainedOnNF4 { model.quantizeLinearLayers() }
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
            say("merged a rank-\(config.rank) adapter on \(config.targetModules.joined(separator: ", "))\(trainedOnNF4 ? " (into the dequantized NF4 base)" : "") into \(outURL.path)")
        } catch let e as ModelError { throw CLIError(e.description) }
    }
}
