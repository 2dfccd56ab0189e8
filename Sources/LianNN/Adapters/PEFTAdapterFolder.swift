import Foundation
import LianTensor

/// LoRA adapters as PEFT saves them: `adapter_config.json` + `adapter_model.safetensors`, the
/// tensors named `base_model.model.<layer path>.lora_A.weight` / `.lora_B.weight`, so an adapter
/// trained in Lian loads with `PeftModel.from_pretrained` and one trained with PEFT loads here.
public enum PEFTAdapterFolder {
    static let prefix = "base_model.model."

    public static func save(_ model: any LanguageModel, config: LoRAConfig, baseModel: String?, to directory: URL) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ModelError(path: directory.path, "cannot create the folder: \(error.localizedDescription)")
        }
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (path, p) in model.loraParameters { writer.add(prefix + path, p.value) }
        try writer.write(to: directory.appendingPathComponent("adapter_model.safetensors"))
        let json = try config.peftJSON(modelType: model.configuration.modelType, baseModel: baseModel)
        try AtomicFile.write(json, to: directory.appendingPathComponent("adapter_config.json"))
    }

    /// Reads the adapter's configuration.
    public static func config(in directory: URL) throws -> LoRAConfig {
        let url = directory.appendingPathComponent("adapter_config.json")
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError(path: url.path, "cannot read adapter_config.json (\(error.localizedDescription)); is \(directory.path) a PEFT adapter folder?")
        }
        return try LoRAConfig.fromPEFT(data, path: url.path)
    }

    /// Attaches the adapter in `directory` to `model` (freezing the rest) and fills A and B from
    /// the file; every tensor must match a layer, and every adapted layer must have its tensors.
    @discardableResult
    public static func load(into model: any LanguageModel, from directory: URL) throws -> LoRAConfig {
        let config = try config(in: directory)
        try model.attachLoRA(config, seed: 0)
        let url = directory.appendingPathComponent("adapter_model.safetensors")
        let file = try SafeTensorsFile(url: url)
        var used = Set<String>()
        for (path, p) in model.loraParameters {
            // PEFT ≥ 0.7 writes no adapter name; older versions wrote `.lora_A.default.weight`.
            let candidates = [prefix + path, prefix + path.replacingOccurrences(of: ".weight", with: ".default.weight")]
            guard let name = candidates.first(where: { file.names.contains($0) }) else {
                throw ModelError(path: url.path, "has no tensor '\(prefix + path)' although adapter_config.json targets that layer")
            }
            let t = try file.tensor(name)
            guard t.shape == p.shape else {
                throw ModelError(path: url.path, "tensor '\(name)' has shape \(t.shape), the model needs \(p.shape) (r = \(config.rank))")
            }
            p.value = t
            p.isTrainable = true
            used.insert(name)
        }
        let unused = file.names.filter { !used.contains($0) }.sorted()
        if !unused.isEmpty {
            throw ModelError(path: url.path, "has \(unused.count) tensor(s) no layer of this model takes (\(unused.prefix(3).joined(separator: ", "))); it was trained for another model")
        }
        return config
    }
}
