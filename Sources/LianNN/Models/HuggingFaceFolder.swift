import Foundation
import LianKernels
import LianTensor

/// Reads and writes models as Hugging Face folders: `config.json` + `model.safetensors` (or a
/// sharded `model.safetensors.index.json`), with transformers' tensor names, so that a Lian model
/// loads in transformers unchanged and a transformers GPT-2 or LLaMA model loads in Lian.
public enum HuggingFaceFolder {
    /// Loads the model in `directory`, choosing the architecture from config.json's `model_type`.
    public static func loadModel(from directory: URL) throws -> any LanguageModel {
        let configURL = directory.appendingPathComponent("config.json")
        let data: Data
        do { data = try Data(contentsOf: configURL) } catch {
            throw ModelError(path: configURL.path, "cannot read the model's config.json (\(error.localizedDescription)); is \(directory.path) a Hugging Face model folder?")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError(path: configURL.path, "config.json is not a JSON object")
        }
        let modelType = object["model_type"] as? String
        let model: any LanguageModel
        switch modelType {
        case "gpt2":
            let config = try decode(GPT2Config.self, from: data, path: configURL.path)
            try config.validate(path: configURL.path)
            model = try GPT2(config)
        case "llama":
            let config = try decode(LlamaConfig.self, from: data, path: configURL.path)
            try config.validate(path: configURL.path)
            model = try Llama(config)
        default:
            throw ModelError(path: configURL.path, "model_type '\(modelType ?? "(missing)")' is not one Lian builds (gpt2, llama)")
        }
        try loadWeights(into: model, from: directory)
        // The random initial weights the file replaced are not needed again.
        SystemMemory.releaseFreed()
        return model
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError(path: path, "config.json lacks the required key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelError(path: path, "config.json key '\(key)' has the wrong type: \(context.debugDescription)")
        } catch {
            throw ModelError(path: path, "config.json cannot be read: \(error)")
        }
    }

    /// Tensors a checkpoint may hold that are not parameters (attention-mask buffers, cached
    /// rotary frequencies); they are skipped.
    static func isBuffer(_ name: String) -> Bool {
        name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") || name.hasSuffix("rotary_emb.inv_freq")
    }

    /// Fills every parameter of `model` from the folder's safetensors file(s).
    public static func loadWeights(into model: any LanguageModel, from directory: URL) throws {
        let files = try weightFiles(in: directory)
        var byName: [String: SafeTensorsFile] = [:]
        for file in files { for name in file.names { byName[name] = file } }
        var used = Set<String>()
        for (path, parameter) in model.namedParameters() {
            // GPT-2 checkpoints saved from GPT2Model (OpenAI's, the hub's `gpt2`) lack the prefix.
            let candidates = [path] + (path.hasPrefix("transformer.") ? [String(path.dropFirst("transformer.".count))] : [])
            guard let name = candidates.first(where: { byName[$0] != nil }), let file = byName[name] else {
                throw ModelError(path: files.map(\.path).joined(separator: ", "),
                                 "the checkpoint has no tensor '\(path)' (shape \(parameter.shape)); it does not match config.json")
            }
            let tensor = try file.tensor(name)
            guard tensor.shape == parameter.shape else {
                throw ModelError(path: file.path, "tensor '\(name)' has shape \(tensor.shape) but config.json implies \(parameter.shape)")
            }
            let trainable = parameter.isTrainable
            parameter.value = tensor
            parameter.isTrainable = trainable
            used.insert(name)
        }
        let unused = byName.keys.filter { !used.contains($0) && !isBuffer($0) && $0 != "lm_head.weight" }.sorted()
        if !unused.isEmpty {
            throw ModelError(path: files.map(\.path).joined(separator: ", "),
                             "the checkpoint has \(unused.count) tensor(s) this model does not use (\(unused.prefix(5).joined(separator: ", "))\(unused.count > 5 ? ", …" : "")); it does not match config.json")
        }
    }

    static func weightFiles(in directory: URL) throws -> [SafeTensorsFile] {
        let single = directory.appendingPathComponent("model.safetensors")
        if FileManager.default.fileExists(atPath: single.path) { return [try SafeTensorsFile(url: single)] }
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if let data = try? Data(contentsOf: index) {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let map = object["weight_map"] as? [String: String] else {
                throw ModelError(path: index.path, "has no weight_map object")
            }
            return try Set(map.values).sorted().map { try SafeTensorsFile(url: directory.appendingPathComponent($0)) }
        }
        let hint = FileManager.default.fileExists(atPath: directory.appendingPathComponent("pytorch_model.bin").path)
            ? " (it has pytorch_model.bin: convert it to safetensors first)" : ""
        throw ModelError(path: directory.path, "no model.safetensors or model.safetensors.index.json\(hint)")
    }

    /// Writes `config.json` and `model.safetensors` (a tied head stored once, as transformers does).
    public static func save(_ model: any LanguageModel, to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError(path: directory.path, "cannot create the folder: \(error.localizedDescription)")
        }
        if let (path, _) = model.linearLayers.first(where: { $0.layer.quantized != nil }) {
            throw ModelError(path: directory.path, "layer \(path) holds NF4 weights; merge the adapter (lian merge) to write a Float32 model")
        }
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        // The base model only: LoRA adapters are saved apart, in PEFT's format.
        for (path, parameter) in model.namedParameters() where !path.contains(".lora_A.") && !path.contains(".lora_B.") {
            writer.add(path, parameter.value)
        }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        let configURL = directory.appendingPathComponent("config.json")
        do {
            try AtomicFile.write(try model.configJSON(), to: configURL)
        } catch {
            throw ModelError(path: configURL.path, "cannot write: \(error.localizedDescription)")
        }
    }
}
