import Foundation
import LianNN
import LianOptim
import LianTensor
import LianTestSupport
import Testing

/// The model families against PyTorch/transformers, as llm.c checks itself: for every folder under
/// ../shared/oracles/models with a config.json and a case.safetensors, load the model, and compare
/// logits, loss, hidden states, every gradient, one clipped AdamW step and five steps' losses.
/// Every shape, name, setting and tolerance comes from the files.
@Suite struct OracleParityTests {
    struct Meta: Decodable {
        struct Optimizer: Decodable {
            let lr: Double, betas: [Double], eps: Double
            let weight_decay: Double, grad_clip_global_norm: Float
        }
        struct Tolerance: Decodable { let logits_abs: Double, grad_abs: Double, step1_abs: Double }
        let optimizer: Optimizer
        let grad_norm_before_clip: Float
        let losses_5_adamw_steps_same_batch: [Float]
        let decay_params: [String]
        let no_decay_params: [String]
        let tolerance: Tolerance
    }

    static var oracleFolders: [URL] {
        guard let shared = SharedFolder.locate() else { return [] }
        let root = shared.appendingPathComponent("oracles/models")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path)
                && FileManager.default.fileExists(atPath: $0.appendingPathComponent("case.safetensors").path)
        }
    }

    func indices(_ file: SafeTensorsFile, _ name: String) throws -> IndexTensor {
        IndexTensor(shape: try file.entry(name).shape, values: try file.integers(name).map { Int32($0) })
    }

    func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Double, _ label: String) {
        #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) vs \(expected.shape)")
        guard actual.shape == expected.shape else { return }
        let (ok, worst) = compare(actual.scalars, expected.scalars, atol: atol, rtol: 0)
        #expect(ok, "\(label): \(worst)")
    }

    @Test func oracleFoldersArePresent() {
        if SharedFolder.locate() != nil { #expect(Self.oracleFolders.count >= 2, "expected gpt2_tiny and llama_tiny") }
    }

    @Test(arguments: oracleFolders)
    func matchesPyTorch(folder: URL) throws {
        let name = folder.lastPathComponent
        let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: folder.appendingPathComponent("meta.json")))
        let tol = meta.tolerance
        let model = try HuggingFaceFolder.loadModel(from: folder)
        let reference = try SafeTensorsFile(url: folder.appendingPathComponent("case.safetensors"))
        let ids = try indices(reference, "input_ids"), targets = try indices(reference, "targets")

        // Forward: logits, hidden states, loss.
        let output = model.forward(ids, collectHiddenStates: true)
        expectClose(output.logits, try reference.tensor("logits"), atol: tol.logits_abs, "\(name) logits")
        let hiddenNames = reference.names.filter { $0.hasPrefix("hidden.") }
        #expect(hiddenNames.count == output.hiddenStates.count, "\(name): \(output.hiddenStates.count) hidden states, reference has \(hiddenNames.count)")
        for (i, h) in output.hiddenStates.enumerated() where reference.names.contains("hidden.\(i)") {
            expectClose(h, try reference.tensor("hidden.\(i)"), atol: tol.logits_abs, "\(name) hidden.\(i)")
        }
        let loss = Tensor.crossEntropy(logits: output.logits, targets: targets)
        expectClose(loss, try reference.tensor("loss"), atol: tol.logits_abs, "\(name) loss")

        // Backward: every trainable parameter's gradient, and no others.
        loss.backward()
        let parameters = model.trainableParameters
        let gradNames = Set(reference.names.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) })
        #expect(Set(parameters.map(\.path)) == gradNames, "\(name): parameter paths differ from the reference's gradients")
        for (path, p) in parameters where gradNames.contains(path) {
            guard let g = p.grad else { Issue.record("\(name): no gradient for \(path)"); continue }
            expectClose(g, try reference.tensor("grad.\(path)"), atol: tol.grad_abs, "\(name) grad.\(path)")
        }

        // The global gradient norm from our gradients.
        #expect(abs(gradientNorm(parameters) - meta.grad_norm_before_clip) <= Float(tol.grad_abs) * max(1, meta.grad_norm_before_clip),
                "\(name): gradient norm \(gradientNorm(parameters)) vs \(meta.grad_norm_before_clip)")

        // One AdamW step with global-norm clipping, decay groups as meta.json lists them. The step
        // starts from the reference gradients: Adam divides by |g| + ε, so for elements whose
        // gradient is near ε (1e-8) a float32 rounding difference of 1e-9 in the gradient (held to
        // grad_abs above) moves the update by up to 1e-4·lr — that would test the summation order of
        // the backward pass, not the optimizer. The whole chain is checked by the 5-step losses below.
        for (path, p) in parameters { p.value.grad = try reference.tensor("grad.\(path)") }
        let decayed = Set(meta.decay_params)
        #expect(decayed.union(meta.no_decay_params) == Set(parameters.map(\.path)))
        // The default grouping (≥ 2-D decays) is the one the reference used.
        #expect(parameters.allSatisfy { ($0.parameter.shape.count >= 2) == decayed.contains($0.path) })
        let optimizer = AdamW(beta1: meta.optimizer.betas[0], beta2: meta.optimizer.betas[1], eps: meta.optimizer.eps,
                              weightDecay: meta.optimizer.weight_decay, decays: { path, _ in decayed.contains(path) })
        let norm = clipGradientNorm(parameters, maxNorm: meta.optimizer.grad_clip_global_norm)
        #expect(abs(norm - meta.grad_norm_before_clip) <= 1e-6 * max(1, meta.grad_norm_before_clip),
                "\(name): reference gradients' norm \(norm) vs \(meta.grad_norm_before_clip)")
        optimizer.step(parameters, learningRate: meta.optimizer.lr)
        for (path, p) in parameters {
            expectClose(p.value, try reference.tensor("step1.\(path)"), atol: tol.step1_abs, "\(name) step1.\(path)")
        }

        // Five steps on the same batch: the loss before each step.
        model.zeroGrad()
        let fresh = try HuggingFaceFolder.loadModel(from: folder)
        let steps = AdamW(beta1: meta.optimizer.betas[0], beta2: meta.optimizer.betas[1], eps: meta.optimizer.eps,
                          weightDecay: meta.optimizer.weight_decay)
        var losses: [Float] = []
        for _ in meta.losses_5_adamw_steps_same_batch.indices {
            fresh.zeroGrad()
            let l = fresh.loss(ids, targets: targets)
            losses.append(l.item)
            l.backward()
            clipGradientNorm(fresh.trainableParameters, maxNorm: meta.optimizer.grad_clip_global_norm)
            steps.step(fresh.trainableParameters, learningRate: meta.optimizer.lr)
        }
        let (ok, worst) = compare(losses, meta.losses_5_adamw_steps_same_batch, atol: tol.logits_abs, rtol: 0)
        #expect(ok, "\(name) 5-step losses \(losses) vs \(meta.losses_5_adamw_steps_same_batch): \(worst)")
    }
}
