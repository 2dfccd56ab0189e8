import Foundation
import LianNN
import LianTensor
import LianTestSupport
import Testing

@Suite final class ModelFolderTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-models-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()
    deinit { try? FileManager.default.removeItem(at: directory) }

    static let gpt2 = GPT2Config(vocabSize: 37, contextLength: 16, width: 24, layers: 2, heads: 3)
    static let llama = LlamaConfig(vocabSize: 41, width: 32, mlpSize: 40, layers: 2, heads: 4, kvHeads: 2, contextLength: 16)

    static var models: [(String, () throws -> any LanguageModel)] {
        var untiedGPT2 = gpt2
        untiedGPT2.tieWordEmbeddings = false
        var tiedLlama = llama
        tiedLlama.tieWordEmbeddings = true
        return [("gpt2 tied", { try GPT2(gpt2, seed: 1) }), ("gpt2 untied", { try GPT2(untiedGPT2, seed: 2) }),
                ("llama untied", { try Llama(llama, seed: 3) }), ("llama tied", { try Llama(tiedLlama, seed: 4) })]
    }

    let ids = IndexTensor(shape: [2, 5], values: [1, 2, 3, 4, 5, 9, 8, 7, 6, 0])

    @Test(arguments: 0..<4)
    func saveThenLoadGivesIdenticalLogits(_ index: Int) throws {
        let (label, make) = Self.models[index]
        let model = try make()
        let folder = directory.appendingPathComponent("m\(index)")
        try HuggingFaceFolder.save(model, to: folder)
        let loaded = try HuggingFaceFolder.loadModel(from: folder)
        #expect(withNoGrad { loaded(ids).scalars } == withNoGrad { model(ids).scalars }, "\(label)")
        #expect(loaded.parameterCount == model.parameterCount)
        // A tied head is stored once, as transformers does.
        let names = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors")).names
        #expect(names.contains("lm_head.weight") == label.hasSuffix("untied"), "\(label): \(names.filter { $0.contains("head") })")
    }

    @Test func gpt2InitializationFollowsGPT2() throws {
        let config = GPT2Config(vocabSize: 512, contextLength: 64, width: 128, layers: 4, heads: 4)
        let model = try GPT2(config, seed: 7)
        func std(_ path: String) -> Float {
            let t = model.namedParameters().first { $0.path == path }!.parameter.value
            let m = t.mean().item
            return ((t - m) * (t - m)).mean().item.squareRoot()
        }
        #expect(abs(std("transformer.wte.weight") - 0.02) < 0.001)
        #expect(abs(std("transformer.h.0.attn.c_attn.weight") - 0.02) < 0.001)
        #expect(abs(std("transformer.h.0.mlp.c_proj.weight") - 0.02 / (8 as Float).squareRoot()) < 0.0005)
        let lnWeight = model.namedParameters().first { $0.path == "transformer.h.0.ln_1.weight" }!.parameter.value
        #expect(lnWeight.scalars.allSatisfy { $0 == 1 })
        // Same seed, same model; another seed, another model.
        #expect(try GPT2(config, seed: 7).transformer.wte.weight.value.scalars == model.transformer.wte.weight.value.scalars)
        #expect(try GPT2(config, seed: 8).transformer.wte.weight.value.scalars != model.transformer.wte.weight.value.scalars)
        // 4 layers × 12·C² + V·C + T·C + norms and biases: the parameter count GPT-2's formula gives.
        let c = 128
        let expected = 512 * c + 64 * c + 4 * (12 * c * c + 13 * c) + 2 * c
        #expect(model.parameterCount == expected)
    }

    func expectModelError(_ label: String, mentioning words: [String], _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(label): no error")
        } catch let error as ModelError {
            for word in words { #expect(error.description.contains(word), "\(label): '\(error)' does not mention \(word)") }
        } catch {
            Issue.record("\(label): unexpected \(error)")
        }
    }

    @Test func badConfigurationsNameTheirKey() throws {
        expectModelError("heads", mentioning: ["n_head", "n_embd"]) {
            _ = try GPT2(GPT2Config(vocabSize: 10, contextLength: 8, width: 10, layers: 1, heads: 3))
        }
        expectModelError("kv heads", mentioning: ["num_key_value_heads"]) {
            _ = try Llama(LlamaConfig(vocabSize: 10, width: 16, mlpSize: 8, layers: 1, heads: 4, kvHeads: 3))
        }
        expectModelError("zero layers", mentioning: ["num_hidden_layers"]) {
            _ = try Llama(LlamaConfig(vocabSize: 10, width: 16, mlpSize: 8, layers: 0, heads: 4))
        }
        // From a folder: the file is named, and so is the key.
        let folder = directory.appendingPathComponent("bad-config")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let configURL = folder.appendingPathComponent("config.json")
        try Data(#"{"model_type": "gpt2", "vocab_size": 10, "n_positions": 8, "n_embd": 12, "n_layer": 1, "n_head": 5}"#.utf8).write(to: configURL)
        expectModelError("folder heads", mentioning: [configURL.path, "n_head"]) { _ = try HuggingFaceFolder.loadModel(from: folder) }
        try Data(#"{"model_type": "gpt2", "vocab_size": 10, "n_embd": 12, "n_layer": 1, "n_head": 4}"#.utf8).write(to: configURL)
        expectModelError("missing key", mentioning: [configURL.path, "n_positions"]) { _ = try HuggingFaceFolder.loadModel(from: folder) }
        try Data(#"{"model_type": "bert"}"#.utf8).write(to: configURL)
        expectModelError("model type", mentioning: ["bert"]) { _ = try HuggingFaceFolder.loadModel(from: folder) }
        try Data(#"{"model_type": "llama", "vocab_size": 10, "hidden_size": 16, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "rope_scaling": {"rope_type": "yarn"}}"#.utf8).write(to: configURL)
        expectModelError("rope", mentioning: ["yarn"]) { _ = try HuggingFaceFolder.loadModel(from: folder) }
        expectModelError("no folder", mentioning: ["config.json"]) { _ = try HuggingFaceFolder.loadModel(from: directory.appendingPathComponent("absent")) }
    }

    @Test func aCheckpointMissingATensorNamesIt() throws {
        let model = try GPT2(Self.gpt2, seed: 1)
        let folder = directory.appendingPathComponent("missing-tensor")
        try HuggingFaceFolder.save(model, to: folder)
        // Rewrite the weights without one tensor.
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (path, p) in model.namedParameters() where path != "transformer.h.1.mlp.c_fc.bias" { writer.add(path, p.value) }
        try writer.write(to: folder.appendingPathComponent("model.safetensors"))
        expectModelError("missing", mentioning: ["transformer.h.1.mlp.c_fc.bias", "model.safetensors"]) {
            _ = try HuggingFaceFolder.loadModel(from: folder)
        }
        // A tensor of the wrong shape is named too.
        writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (path, p) in model.namedParameters() {
            writer.add(path, path == "transformer.wpe.weight" ? Tensor.zeros([3, 24]) : p.value)
        }
        try writer.write(to: folder.appendingPathComponent("model.safetensors"))
        expectModelError("shape", mentioning: ["transformer.wpe.weight", "[3, 24]"]) { _ = try HuggingFaceFolder.loadModel(from: folder) }
    }

    /// Checkpoints saved from transformers' GPT2Model (OpenAI's `gpt2`) name tensors without the
    /// `transformer.` prefix and carry attention-mask buffers; both load.
    @Test func loadsGPT2CheckpointsWithoutThePrefix() throws {
        let model = try GPT2(Self.gpt2, seed: 5)
        let folder = directory.appendingPathComponent("no-prefix")
        try HuggingFaceFolder.save(model, to: folder)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (path, p) in model.namedParameters() { writer.add(String(path.dropFirst("transformer.".count)), p.value) }
        writer.add("h.0.attn.bias", Tensor.ones([1, 1, 16, 16]))
        try writer.write(to: folder.appendingPathComponent("model.safetensors"))
        let loaded = try HuggingFaceFolder.loadModel(from: folder)
        #expect(withNoGrad { loaded(ids).scalars } == withNoGrad { model(ids).scalars })
    }
}
