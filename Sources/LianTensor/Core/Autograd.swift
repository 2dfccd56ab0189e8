// Reverse-mode automatic differentiation.
//
// Every op that reads a tensor taking part in autograd records a node: its parents and its
// pullback (the function from the output's gradient to the inputs' gradients), written next to
// the op's forward code. `backward()` orders the nodes topologically from the output and runs the
// pullbacks in reverse, summing gradients where a tensor is used more than once. Leaves
// (parameters) keep their gradient, accumulating across calls until `zeroGrad()`; intermediate
// gradients and the pullbacks' saved tensors are released as soon as they have been used.

/// The gradient functions of one op: given the output's gradient, and which inputs need one,
/// return a gradient (of the input's shape) for each input, or nil where not needed.
typealias Pullback = (_ gradient: Tensor, _ needs: [Bool]) -> [Tensor?]

/// Adds the input's gradient, given the output's, into `inputGradient` (zeros when the input has
/// none yet).
typealias ScatterPullback = (_ gradient: Tensor, _ inputGradient: inout Tensor) -> Void

final class AutogradNode {
    let parents: [AutogradNode?]
    var pullback: Pullback?
    let isLeaf: Bool
    let shape: [Int]
    /// A leaf's accumulated gradient, or an intermediate node's gradient during `backward()`.
    var grad: Tensor?
    /// Instead of `pullback`, for an op with one input whose gradient touches few of its
    /// elements (an embedding lookup): adds the input's gradient into the input's running
    /// gradient in place, so no dense input-sized gradient is made only to be summed.
    var addsIntoInput: ScatterPullback?

    init(leafShape shape: [Int]) {
        parents = []; pullback = nil; isLeaf = true; self.shape = shape
    }

    init(shape: [Int], parents: [AutogradNode?], pullback: @escaping Pullback) {
        self.parents = parents; self.pullback = pullback; isLeaf = false; self.shape = shape
    }

    init(shape: [Int], parent: AutogradNode, addsIntoInput: @escaping ScatterPullback) {
        parents = [parent]; self.addsIntoInput = addsIntoInput; isLeaf = false; self.shape = shape
    }
}

/// Whether ops record the autograd graph on this thread / task.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording gradients: for evaluation and generation, which then keep no
/// saved activations alive.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

extension Tensor {
    /// Whether gradients flow into this tensor. Setting it to true makes the tensor a leaf
    /// (a parameter); setting it to false freezes it and forgets its graph.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                if node == nil || !(node!.isLeaf) { node = AutogradNode(leafShape: shape) }
            } else {
                node = nil
            }
        }
    }

    /// The gradient accumulated by `backward()` calls, for a leaf. Setting it (to nil, or to a
    /// gradient computed elsewhere) is allowed on a tensor that requires gradients.
    public var grad: Tensor? {
        get { node?.grad }
        nonmutating set {
            precondition(node != nil || newValue == nil, "[grad] this tensor does not require gradients")
            if let newValue { precondition(newValue.shape == shape, "[grad] gradient shape \(newValue.shape) differs from \(shape)") }
            node?.grad = newValue?.detached()
        }
    }

    /// Forgets the accumulated gradient.
    public func zeroGrad() { node?.grad = nil }

    /// Records `pullback` for `output` computed from `inputs`, when gradients are being recorded
    /// and some input takes part in autograd.
    static func record(_ output: inout Tensor, from inputs: [Tensor], pullback: @escaping Pullback) {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return }
        output.node = AutogradNode(shape: output.shape, parents: inputs.map(\.node), pullback: pullback)
    }

    /// Records an op of one input whose pullback adds into that input's gradient in place
    /// (see `AutogradNode.addsIntoInput`).
    static func record(_ output: inout Tensor, from input: Tensor, addingIntoInputGradient pullback: @escaping ScatterPullback) {
        guard GradMode.isEnabled, let parent = input.node else { return }
        output.node = AutogradNode(shape: output.shape, parent: parent, addsIntoInput: pullback)
    }

    /// Computes the gradient of this tensor with respect to every leaf it depends on. Without a
    /// `seed`, the tensor must hold one element and the seed is 1.
    public func backward(seed: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("[backward] this tensor does not require gradients (no parameter feeds it, or it was computed under withNoGrad)")
        }
        if let seed {
            precondition(seed.shape == shape, "[backward] seed shape \(seed.shape) differs from \(shape)")
        } else {
            precondition(count == 1, "[backward] without a seed the output must have one element, not shape \(shape)")
        }
        let start = seed ?? Tensor.ones(shape)
        if root.isLeaf { root.accumulate(start); return }

        // Topological order by iterative depth-first search (graphs can be deeper than the stack).
        var order: [AutogradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(AutogradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (n, next) = stack.popLast() {
            if next < n.parents.count {
                stack.append((n, next + 1))
                if let p = n.parents[next], !p.isLeaf, visited.insert(ObjectIdentifier(p)).inserted {
                    stack.append((p, 0))
                }
            } else {
                order.append(n)
            }
        }

        root.grad = start
        for n in order.reversed() {
            guard let g = n.grad else { continue }
            n.grad = nil
            if let addInto = n.addsIntoInput, let parent = n.parents[0] {
                n.addsIntoInput = nil
                var running = parent.grad ?? Tensor.zeros(parent.shape)
                parent.grad = nil   // the running gradient's only reference: written in place, not copied
                addInto(g, &running)
                parent.grad = running
                continue
            }
            guard let pullback = n.pullback else {
                preconditionFailure("[backward] the graph was already used by an earlier backward(); compute the output again")
            }
            n.pullback = nil   // frees the saved activations
            let needs = n.parents.map { $0 != nil }
            let inputGrads = pullback(g, needs)
            for (parent, pg) in zip(n.parents, inputGrads) {
                guard let parent, let pg else { continue }
                precondition(pg.shape == parent.shape,
                             "[backward] an op returned a gradient of shape \(pg.shape) for an input of shape \(parent.shape)")
                parent.accumulate(pg)
            }
        }
    }
}

extension AutogradNode {
    /// grad += g, in place when the gradient's memory is not shared.
    func accumulate(_ g: Tensor) {
        if grad == nil {
            grad = g.detached()
        } else {
            grad!.addInPlace(g)
        }
    }
}

extension Tensor {
    /// Multiplies the accumulated gradient by `factor` in place (gradient clipping).
    public func scaleGrad(by factor: Float) {
        guard let node, var g = node.grad else { return }
        node.grad = nil   // drop the node's reference so the write below need not copy
        g.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] *= factor }
        }
        node.grad = g
    }
}
