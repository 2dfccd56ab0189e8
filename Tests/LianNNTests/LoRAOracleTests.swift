import Foundation
import LianNN
import LianOptim
import LianTensor
import LianTestSupport
import Testing

/// LoRA against PEFT: for every folder under ../shared/oracles/models holding base/, adapter/ and
/// case.safetensors, load the base and the PEFT adapter, compare logits, hidden states, loss and
/// every LoRA gradient; one clipped AdamW step; five steps' losses; the merged weights after five
/// steps. Shapes, names, settings and tolerances come from the files.
@Suite struct LoRAOracleTests {
    struct Meta: Decodable {
        struct Optimizer: Decodable { let lr: Double, betas: [Double], eps: Double, weight_decay: Double, grad_clip_global_norm: Float }
        struct Tolerance: Decodable { let logits_abs: Double, grad_abs: Double, step1_abs: Double }
        let optimizer: Optimizer
        let grad_norm_before_clip: Float
        let losses_5_adamw_steps_same_batch: [Float]
        let decay_params: [String]
        let tolerance: Tolerance
    }

    static var folders: [URL] {
        guard let shared = SharedFolder.locate() else { return [] }
        let root = shared.appendingPathComponent("oracles/models")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("adapter/adapter_config.json").path)
                && FileManager.default.fileExists(atPath: $0.appendingPathComponent("case.safetensors").path)
        }
    }

    func close(_ a: Tensor, _ b: Tensor, _ atol: Double, _ label: String) {
        #expect(a.shape == b.shape, "\(label): shape \(a.shape) vs \(b.shape)")
        guard a.shape == b.shape else { return }
        let (ok, worst) = compare(a.scalars, b.scalars, atol: atol, rtol: 0)
        #expect(ok, "\(label): \(worst)")
    }

    func loadAdapted(_ folder: URL) throws -> any LanguageModel {
        let model = try HuggingFaceFolder.loadModel(from: folder.appendingPathComponent("base"))
        try PEFTAdapterFolder.load(into: model, from: folder.appendingPathComponent("adapter"))
        return model
    }

    @Test func oracleIsPresent() {
        if SharedFolder.locate() != nil { #expect(!Self.folders.isEmpty, "expected oracles/models/lora_llama_tiny") }
    }

    @Test(arguments: folders) func matchesPEFT(folder: URL) throws {
        let name = folder.lastPathComponent
        let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: folder.appendingPathComponent("meta.json")))
        let tol = meta.tolerance
        let reference = try SafeTensorsFile(url: folder.appendingPathComponent("case.safetensors"))
        func ids(_ n: String) throws -> IndexTensor { IndexTensor(shape: try reference.entry(n).shape, values: try reference.integers(n).map { Int32($0) }) }
        let input = try ids("input_ids"), targets = try ids("targets")
        let model = try loadAdapted(folder)

        // Only the adapters train, and they are exactly the reference's gradient names.
        let trainable = model.trainableParameters
        let prefix = "base_model.model."
        let gradNames = Set(reference.names.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5 + prefix.count)) })
        #expect(Set(trainable.map(\.path)) == gradNames, "\(name): trainable parameters differ from the reference's")

        let output = model.forward(input, collectHiddenStates: true)
        close(output.logits, try reference.tensor("logits"), tol.logits_abs, "\(name) logits")
        for (i, h) in output.hiddenStates.enumerated() where reference.names.contains("hidden.\(i)") {
            close(h, try reference.tensor("hidden.\(i)"), tol.logits_abs, "\(name) hidden.\(i)")
        }
        let loss = Tensor.crossEntropy(logits: output.logits, targets: targets)
        close(loss, try reference.tensor("loss"), tol.logits_abs, "\(name) loss")
        loss.backward()
        for (path, p) in trainable {
            guard let g = p.grad else { Issue.record("\(name): no gradient for \(path)"); continue }
            close(g, try reference.tensor("grad." + prefix + path), tol.grad_abs, "\(name) grad.\(path)")
        }
        #expect(abs(gradientNorm(trainable) - meta.grad_norm_before_clip) <= Float(tol.grad_abs) * max(1, meta.grad_norm_before_clip))

        // One clipped AdamW step from the reference gradients (see OracleParityTests for why).
        for (path, p) in trainable { p.value.grad = try reference.tensor("grad." + prefix + path) }
        let decayed = Set(meta.decay_params.map { String($0.dropFirst(prefix.count)) })
        let o = meta.optimizer
        let optimizer = AdamW(beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weight_decay, decays: { p, _ in decayed.contains(p) })
        clipGradientNorm(trainable, maxNorm: o.grad_clip_global_norm)
        optimizer.step(trainable, learningRate: o.lr)
        for (path, p) in trainable { close(p.value, try reference.tensor("step1." + prefix + path), tol.step1_abs, "\(name) step1.\(path)") }

        // Five steps on the same batch from the loaded adapter, then merge.
        let fresh = try loadAdapted(folder)
        let steps = AdamW(beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weight_decay, decays: { p, _ in decayed.contains(p) })
        var losses: [Float] = []
        for _ in meta.losses_5_adamw_steps_same_batch.indices {
            fresh.zeroGrad()
            let l = fresh.loss(input, targets: targets)
            losses.append(l.item)
            l.backward()
            clipGradientNorm(fresh.trainableParameters, maxNorm: o.grad_clip_global_norm)
            steps.step(fresh.trainableParameters, learningRate: o.lr)
        }
        let (ok, worst) = compare(losses, meta.losses_5_adamw_steps_same_batch, atol: tol.logits_abs, rtol: 0)
        #expect(ok, "\(name) 5-step losses \(losses) vs \(meta.losses_5_adamw_steps_same_batch): \(worst)")

        let adaptedLogits = withNoGrad { fresh(input) }
        fresh.mergeLoRA()
        #expect(fresh.loraParameters.isEmpty)
        let merged = try SafeTensorsFile(url: folder.appendingPathComponent("merged_after_5_steps.safetensors"))
        let parameters = fresh.namedParameters()
        #expect(Set(parameters.map(\.path)).isSubset(of: Set(merged.names)))
        for (path, p) in parameters { close(p.value, try merged.tensor(path), tol.step1_abs, "\(name) merged \(path)") }
        // The fused model gives the logits of base + adapter.
        close(withNoGrad { fresh(input) }, adaptedLogits, tol.logits_abs, "\(name) merged logits")
    }
}
