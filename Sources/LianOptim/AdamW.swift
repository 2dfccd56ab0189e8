import Foundation
import LianKernels
import LianNN
import LianTensor

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay and bias correction, computed as
/// PyTorch's `torch.optim.AdamW` computes it. Weight decay applies to the parameters `decays`
/// selects: by default those with two or more dimensions (matrices and embeddings, not biases or
/// norm weights), the usual parameter grouping of GPT-2 training.
public final class AdamW: Optimizer {
    public var beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    public var decays: (String, Parameter) -> Bool
    public private(set) var stepCount = 0
    /// First and second moments by parameter path.
    private var moments: [String: (m: Tensor, v: Tensor)] = [:]

    public init(beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0.01,
                decays: @escaping (String, Parameter) -> Bool = { _, p in p.shape.count >= 2 }) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.decays = decays
    }

    public func step(_ parameters: [(path: String, parameter: Parameter)], learningRate: Double, gradientScale: Float) {
        stepCount += 1
        // The moments are taken out of the table (so that they are uniquely referenced and update
        // in place), then the updates run: parameters too small for the kernel to split go to the
        // threads one parameter each — a small model has dozens, each a fraction of a millisecond
        // — and the large ones are split by the kernel itself.
        var updates: [Update] = []
        for (path, p) in parameters {
            guard let grad = p.grad else { continue }
            let state = moments.removeValue(forKey: path) ?? (Tensor.zeros(p.shape), Tensor.zeros(p.shape))
            let scalars = AdamWScalars(learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                                       weightDecay: decays(path, p) ? weightDecay : 0, step: stepCount,
                                       gradientScale: gradientScale)
            updates.append(Update(path: path, parameter: p, grad: grad, m: state.m, v: state.v, scalars: scalars))
        }
        let small = updates.indices.filter { updates[$0].grad.count < OptimizerKernels.parallelThreshold }
        let large = updates.indices.filter { updates[$0].grad.count >= OptimizerKernels.parallelThreshold }
        updates.withUnsafeMutableBufferPointer { buffer in
            let items = SendablePointer(buffer.baseAddress!)
            parallelDynamic(small.count) { k in items.base[small[k]].apply() }
            for i in large { items.base[i].apply() }
        }
        for u in updates { moments[u.path] = (u.m, u.v) }
    }

    /// One parameter's update: its value, gradient, moments and settings.
    private struct Update: @unchecked Sendable {
        let path: String
        let parameter: Parameter
        let grad: Tensor
        var m: Tensor, v: Tensor
        let scalars: AdamWScalars

        mutating func apply() {
            let (grad, scalars) = (self.grad, self.scalars)
            parameter.value.withUnsafeMutableBufferPointer { pb in
                grad.withUnsafeBufferPointer { gb in
                    m.withUnsafeMutableBufferPointer { mb in
                        v.withUnsafeMutableBufferPointer { vb in
                            OptimizerKernels.adamW(pb.baseAddress!, gb.baseAddress!, mb.baseAddress!, vb.baseAddress!, pb.count, scalars)
                        }
                    }
                }
            }
        }
    }

    public func stateWriter() -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: [
            "optimizer": "adamw", "step": String(stepCount), "beta1": String(beta1), "beta2": String(beta2),
            "eps": String(eps), "weight_decay": String(weightDecay),
        ])
        for path in moments.keys.sorted() {
            writer.add("exp_avg.\(path)", moments[path]!.m)
            writer.add("exp_avg_sq.\(path)", moments[path]!.v)
        }
        return writer
    }

    public func loadState(from file: SafeTensorsFile, parameters: [(path: String, parameter: Parameter)]) throws {
        let step = try savedStepCount(in: file, optimizer: "adamw")
        var restored: [String: (m: Tensor, v: Tensor)] = [:]
        for (path, p) in parameters where file.names.contains("exp_avg.\(path)") {
            restored[path] = (try stateTensor(file, "exp_avg.\(path)", for: p), try stateTensor(file, "exp_avg_sq.\(path)", for: p))
        }
        let known = Set(parameters.map(\.path))
        if let stray = file.names.map({ $0.split(separator: ".", maxSplits: 1).last.map(String.init) ?? $0 }).first(where: { !known.contains($0) }) {
            throw SafeTensorsError(.badEntry, path: file.path, "optimizer state for '\(stray)', which the model does not have")
        }
        moments = restored
        stepCount = step
    }
}
