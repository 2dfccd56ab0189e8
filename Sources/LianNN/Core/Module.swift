import LianTensor

/// A trainable (or frozen) tensor owned by a module. A class, so that the optimizer updates the
/// same value the model reads.
public final class Parameter {
    public var value: Tensor

    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value.detached()
        self.value.requiresGrad = trainable
    }

    /// Whether gradients flow into this parameter; false freezes it.
    public var isTrainable: Bool {
        get { value.requiresGrad }
        set { value.requiresGrad = newValue }
    }

    /// The gradient accumulated by `backward()`.
    public var grad: Tensor? { value.grad }

    public var shape: [Int] { value.shape }
}

/// A layer or a model: its own parameters and its child modules, each under a name. The dotted
/// paths they make (`transformer.h.0.attn.c_attn.weight`) are the checkpoint keys, so they follow
/// the Hugging Face names.
public protocol Module: AnyObject {
    /// This module's own parameters, by name.
    var ownParameters: [(name: String, parameter: Parameter)] { get }
    /// Child modules, by name.
    var children: [(name: String, module: any Module)] { get }
}

extension Module {
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }
    public var children: [(name: String, module: any Module)] { [] }

    /// Every parameter under this module with its dotted path, in a stable order (own parameters,
    /// then children in the order they are listed). A parameter shared by two paths (a tied
    /// embedding) is listed once, under its first path.
    public func namedParameters(prefix: String = "") -> [(path: String, parameter: Parameter)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(path: String, parameter: Parameter)] = []
        collect(prefix: prefix, into: &result, seen: &seen)
        return result
    }

    func collect(prefix: String, into result: inout [(path: String, parameter: Parameter)], seen: inout Set<ObjectIdentifier>) {
        for (name, p) in ownParameters where seen.insert(ObjectIdentifier(p)).inserted {
            result.append((prefix + name, p))
        }
        for (name, child) in children {
            child.collect(prefix: prefix + name + ".", into: &result, seen: &seen)
        }
    }

    /// The parameters that receive gradients.
    public var trainableParameters: [(path: String, parameter: Parameter)] {
        namedParameters().filter { $0.parameter.isTrainable }
    }

    /// The total number of elements in all parameters (a tied tensor counted once).
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.parameter.value.count } }

    /// Forgets every accumulated gradient.
    public func zeroGrad() { for (_, p) in namedParameters() { p.value.zeroGrad() } }

    /// Freezes (or unfreezes) every parameter.
    public func setTrainable(_ trainable: Bool) { for (_, p) in namedParameters() { p.isTrainable = trainable } }
}
