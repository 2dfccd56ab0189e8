import Foundation
import LianNN
import LianTensor

/// Something that updates parameters from their gradients. State (moments, step count) is keyed
/// by parameter path so that it can be saved beside a checkpoint and restored.
public protocol Optimizer: AnyObject {
    /// Steps taken so far.
    var stepCount: Int { get }
    /// Updates every parameter that has a gradient, read as gradient · `gradientScale` (gradient
    /// clipping's factor, `clippingFactor`: the same values as scaling the gradients first, without
    /// a pass over them; the stored gradients are left as they are).
    func step(_ parameters: [(path: String, parameter: Parameter)], learningRate: Double, gradientScale: Float)
    /// The state as safetensors (tensors keyed `KIND.PATH`, settings and step count in metadata).
    func stateWriter() -> SafeTensorsWriter
    /// Restores the state written by `stateWriter`, checking it against `parameters`.
    func loadState(from file: SafeTensorsFile, parameters: [(path: String, parameter: Parameter)]) throws
}

extension Optimizer {
    /// Updates every parameter that has a gradient.
    public func step(_ parameters: [(path: String, parameter: Parameter)], learningRate: Double) {
        step(parameters, learningRate: learningRate, gradientScale: 1)
    }

    public func saveState(to url: URL) throws { try stateWriter().write(to: url) }

    public func loadState(from url: URL, parameters: [(path: String, parameter: Parameter)]) throws {
        try loadState(from: SafeTensorsFile(url: url), parameters: parameters)
    }
}

/// Reads one state tensor for a parameter, checking its shape.
func stateTensor(_ file: SafeTensorsFile, _ key: String, for parameter: Parameter) throws -> Tensor {
    let t = try file.tensor(key)
    guard t.shape == parameter.shape else {
        throw SafeTensorsError(.sizeMismatch, path: file.path, "optimizer state '\(key)' has shape \(t.shape) but the parameter has \(parameter.shape); the state belongs to another model")
    }
    // A private copy: the optimizer writes into it every step.
    return Tensor(shape: t.shape, values: t.scalars)
}

func savedStepCount(in file: SafeTensorsFile, optimizer: String) throws -> Int {
    guard file.metadata["optimizer"] == optimizer else {
        throw SafeTensorsError(.badEntry, path: file.path, "holds '\(file.metadata["optimizer"] ?? "no")' optimizer state, not \(optimizer)")
    }
    guard let text = file.metadata["step"], let step = Int(text), step >= 0 else {
        throw SafeTensorsError(.badEntry, path: file.path, "optimizer state has no valid 'step' in its metadata")
    }
    return step
}
