import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTestSupport
import Testing

@Suite struct LoRATests {
    static let gpt2 = GPT2Config(vocabSize: 40, contextLength: 16, width: 32, layers: 3, heads: 4)
    static let llama = LlamaConfig(vocabSize: 40, width: 32, mlpSize: 48, layers: 3, heads: 4, kvHeads: 2, contextLength: 16)
    static let ids = IndexTensor(shape: [2, 8], values: (0..<16).map { Int32(($0 * 5 + 1) % 40) })

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! }

    /// Pretends training happened: B gets values, so the adapter changes the output.
    func perturbAdapters(_ model: any LanguageModel) {
        var rng = SeededRandom(seed: 77)
        for (path, p) in model.loraParameters where path.contains("lora_B") { p.value = Tensor.randomNormal(p.shape, std: 0.05, rng: &rng) }
    }

    @Test func targetsFollowNamesGroupsAndLayers() throws {
        let g = try GPT2(Self.gpt2, seed: 1)
        #expect(g.loraTargets(LoRAConfig(rank: 2, alpha: 4, targetModules: ["c_attn"])).map(\.path)
                == ["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn", "transformer.h.2.attn.c_attn"])
        #expect(g.loraTargets(LoRAConfig(rank: 2, alpha: 4, targetModules: ["attention"], layers: [1])).map(\.path)
                == ["transformer.h.1.attn.c_attn", "transformer.h.1.attn.c_proj"])
        #expect(g.loraTargets(LoRAConfig(rank: 2, alpha: 4, targetModules: ["all-linear"])).count == 12)
        let l = try Llama(Self.llama, seed: 1)
        #expect(l.loraTargets(LoRAConfig(rank: 2, alpha: 4, targetModules: ["all-linear"])).count == 21, "7 per layer, no lm_head")
        #expect { try l.attachLoRA(LoRAConfig(rank: 2, alpha: 4, targetModules: ["c_attn"]), seed: 1) } throws: {
            ($0 as? ModelError)?.message.contains("q_proj") == true
        }
    }

    @Test(arguments: [0, 1]) func stepZeroEqualsTheBaseAndOnlyAdaptersTrain(_ which: Int) throws {
        let model: any LanguageModel = which == 0 ? try GPT2(Self.gpt2, seed: 2) : try Llama(Self.llama, seed: 2)
        let before = withNoGrad { model(Self.ids) }
        try model.attachLoRA(LoRAConfig(rank: 4, alpha: 8, targetModules: ["all-linear"]), seed: 3)
        #expect(maxDifference(withNoGrad { model(Self.ids) }, before) == 0, "B = 0: the adapted model equals the base")
        #expect(model.trainableParameters.allSatisfy { $0.path.contains(".lora_") })
        let loss = model.loss(Self.ids, targets: Self.ids)
        loss.backward()
        #expect(model.loraParameters.allSatisfy { $0.parameter.grad != nil })
    }

    @Test(arguments: [0, 1]) func savedAdaptersReloadAndMergeToTheSameLogits(_ which: Int) throws {
        let make: () throws -> any LanguageModel = { which == 0 ? try GPT2(Self.gpt2, seed: 4) : try Llama(Self.llama, seed: 4) }
        let model = try make()
        let config = LoRAConfig(rank: 4, alpha: 16, targetModules: ["attention", "mlp"], layers: [0, 2])
        try model.attachLoRA(config, seed: 5)
        perturbAdapters(model)
        let adapted = withNoGrad { model(Self.ids) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lian-lora-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try PEFTAdapterFolder.save(model, config: config, baseModel: nil, to: folder)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        #expect(json["r"] as? Int == 4 && json["fan_in_fan_out"] as? Bool == (which == 0))

        let reloaded = try make()
        // PEFT's names are written: the groups expanded to layer names.
        let loaded = try PEFTAdapterFolder.load(into: reloaded, from: folder)
        #expect(loaded.targetModules == LoRAConfig.expand(config.targetModules, for: reloaded.configuration.modelType))
        #expect(loaded.rank == config.rank && loaded.alpha == config.alpha && loaded.layers == config.layers)
        #expect(maxDifference(withNoGrad { reloaded(Self.ids) }, adapted) == 0)
        reloaded.mergeLoRA()
        #expect(reloaded.loraParameters.isEmpty)
        #expect(maxDifference(withNoGrad { reloaded(Self.ids) }, adapted) < 1e-5, "merged = base + adapter")
    }

    @Test func anAdapterForAnotherModelIsRefused() throws {
        let model = try Llama(Self.llama, seed: 1)
        try model.attachLoRA(LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj"]), seed: 1)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lian-lora-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try PEFTAdapterFolder.save(model, config: LoRAConfig(rank: 4, alpha: 8, targetModules: ["q_proj"]), baseModel: nil, to: folder)
        var wider = Self.llama
        wider.width = 64; wider.headSize = 16
        #expect { try PEFTAdapterFolder.load(into: try Llama(wider, seed: 1), from: folder) } throws: {
            ($0 as? ModelError)?.message.contains("shape") == true
        }
    }
}

@Suite struct QuantizedLinearTests {
    @Test(arguments: [false, true]) func nf4LinearMatchesTheDequantizedWeight(_ inputMajor: Bool) throws {
        // [out, in] = [40, 24] (or [in, out] = [24, 40]): 960 values, 15 blocks of 64 crossing rows.
        var rng = SeededRandom(seed: 3)
        let shape = inputMajor ? [24, 40] : [40, 24]
        let w = Tensor.randomNormal(shape, std: 0.1, rng: &rng)
        let q = w.withUnsafeBufferPointer { NF4Matrix(quantizing: $0, rows: shape[0], columns: shape[1]) }
        let dense = Tensor(shape: shape, values: q.dequantized())
        let bias = Tensor.randomNormal([40], std: 0.1, rng: &rng)
        var x = Tensor.randomNormal([3, 5, 24], rng: &rng)
        x.requiresGrad = true
        var b1 = bias; b1.requiresGrad = true
        let y = x.linear(nf4Weight: q, inputMajor: inputMajor, bias: b1)
        (y * y).sum().backward()
        var x2 = x.detached(); x2.requiresGrad = true
        var b2 = bias; b2.requiresGrad = true
        let y2 = inputMajor ? x2.linear(inputMajorWeight: dense, bias: b2) : x2.linear(weight: dense, bias: b2)
        (y2 * y2).sum().backward()
        #expect(compare(y.scalars, y2.scalars, atol: 1e-5, rtol: 1e-5).0)
        #expect(compare(x.grad!.scalars, x2.grad!.scalars, atol: 1e-4, rtol: 1e-5).0)
        #expect(compare(b1.grad!.scalars, b2.grad!.scalars, atol: 1e-4, rtol: 1e-5).0)
        // 4-bit storage: the quantization error is bounded by half the widest NF4 gap × absmax.
        let worst = zip(w.scalars, dense.scalars).map { abs($0 - $1) }.max()!
        #expect(worst < 0.2 * w.scalars.map(abs).max()!)
    }

    @Test func qloraModelTrainsAdaptersOverAFrozenNF4Base() throws {
        let model = try Llama(LoRATests.llama, seed: 6)
        let reference = withNoGrad { model(LoRATests.ids) }
        model.quantizeLinearLayers()
        #expect(model.linearLayers.filter { $0.layer.quantized != nil }.count == 21)
        let quantizedLogits = withNoGrad { model(LoRATests.ids) }
        let drift = zip(quantizedLogits.scalars, reference.scalars).map { abs($0 - $1) }.max()!
        #expect(drift > 0 && drift < 0.5, "NF4 changes the logits a little: \(drift)")
        try model.attachLoRA(LoRAConfig(rank: 4, alpha: 8, targetModules: ["attention"]), seed: 1)
        let loss = model.loss(LoRATests.ids, targets: LoRATests.ids)
        loss.backward()
        #expect(model.trainableParameters.allSatisfy { $0.path.contains(".lora_") && $0.parameter.grad != nil })
        model.mergeLoRA()
        #expect(model.linearLayers.allSatisfy { $0.layer.quantized == nil })
        let merged = withNoGrad { model(LoRATests.ids) }
        #expect(zip(merged.scalars, quantizedLogits.scalars).map { abs($0 - $1) }.max()! < 1e-4, "B = 0: merging adds nothing")
    }
}
