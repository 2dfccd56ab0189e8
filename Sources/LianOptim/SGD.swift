import LianKernels
import LianNN
import LianTensor

/// Stochastic gradient descent with momentum, Nesterov momentum and (coupled, L2) weight decay,
/// as PyTorch's `torch.optim.SGD` computes it (dampening 0).
public final class SGD: Optimizer {
    public var momentum: Float, weightDecay: Float, nesterov: Bool
    public private(set) var stepCount = 0
    private var buffers: [String: Tensor] = [:]

    public init(momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "[SGD] Nesterov momentum needs momentum > 0")
        self.momentum = momentum; self.weightDecay = weightDecay; self.nesterov = nesterov
    }

    public func step(_ parameters: [(path: String, parameter: Parameter)], learningRate: Double, gradientScale: Float) {
        stepCount += 1
        for (path, p) in parameters {
            guard let grad = p.grad else { continue }
            let first = buffers[path] == nil
            var buffer = buffers.removeValue(forKey: path) ?? Tensor.zeros(p.shape)
            p.value.withUnsafeMutableBufferPointer { pb in
                grad.withUnsafeBufferPointer { gb in
                    buffer.withUnsafeMutableBufferPointer { bb in
                        OptimizerKernels.sgd(pb.baseAddress!, gb.baseAddress!, momentum != 0 ? bb.baseAddress! : nil, pb.count,
                                             learningRate: Float(learningRate), momentum: momentum,
                                             weightDecay: weightDecay, nesterov: nesterov, firstStep: first,
                                             gradientScale: gradientScale)
                    }
                }
            }
            if momentum != 0 { buffers[path] = buffer }
        }
    }

    public func stateWriter() -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: [
            "optimizer": "sgd", "step": String(stepCount), "momentum": String(momentum),
            "weight_decay": String(weightDecay), "nesterov": String(nesterov),
        ])
        for path in buffers.keys.sorted() { writer.add("momentum_buffer.\(path)", buffers[path]!) }
        return writer
    }

    public func loadState(from file: SafeTensorsFile, parameters: [(path: String, parameter: Parameter)]) throws {
        let step = try savedStepCount(in: file, optimizer: "sgd")
        var restored: [String: Tensor] = [:]
        for (path, p) in parameters where file.names.contains("momentum_buffer.\(path)") {
            restored[path] = try stateTensor(file, "momentum_buffer.\(path)", for: p)
        }
        buffers = restored
        stepCount = step
    }
}
