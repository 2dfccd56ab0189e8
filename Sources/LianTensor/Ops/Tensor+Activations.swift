import LianKernels

extension Tensor {
    /// GELU in the tanh form GPT-2 uses. When recording, the forward also saves GELU′(x) in
    /// place of x (the same memory), so the backward is one multiply, not a second exp.
    public func gelu() -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        guard GradMode.isEnabled && requiresGrad else {
            Kernels.backend.geluForward(pointer, out.mutablePointer, count)
            return out
        }
        var derivative = Tensor(uninitializedShape: shape)
        Kernels.backend.geluForward(pointer, out.mutablePointer, derivative: derivative.mutablePointer, count)
        let d = derivative
        Tensor.record(&out, from: [self]) { g, _ in
            var dx = Tensor(uninitializedShape: d.shape)
            Kernels.backend.geluBackward(savedDerivative: d.pointer, g.pointer, dx.mutablePointer, d.count)
            return [dx]
        }
        return out
    }

    /// SiLU (swish): x · σ(x).
    public func silu() -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        Kernels.backend.siluForward(pointer, out.mutablePointer, count)
        let x = detached()
        Tensor.record(&out, from: [self]) { g, _ in
            var dx = Tensor(uninitializedShape: x.shape)
            Kernels.backend.siluBackward(x.pointer, g.pointer, dx.mutablePointer, x.count)
            return [dx]
        }
        return out
    }

    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        precondition(rank >= 1, "[softmax] needs rank ≥ 1")
        let cols = shape[rank - 1], rows = count / Swift.max(1, cols)
        var out = Tensor(uninitializedShape: shape)
        Kernels.backend.softmaxForward(pointer, out.mutablePointer, rows: rows, cols: cols)
        let y = out.detached()
        Tensor.record(&out, from: [self]) { g, _ in
            var dx = Tensor(uninitializedShape: y.shape)
            Kernels.backend.softmaxBackward(y.pointer, g.pointer, dx.mutablePointer, rows: rows, cols: cols)
            return [dx]
        }
        return out
    }

    /// Zeroes each element with probability `p` and scales the rest by 1/(1−p), with a mask drawn
    /// from `rng`. With p = 0 it returns self.
    public func dropout(probability p: Float, rng: inout SeededRandom) -> Tensor {
        precondition(p >= 0 && p < 1, "[dropout] probability \(p) outside [0, 1)")
        if p == 0 { return self }
        let keep = 1 - p, scale = 1 / keep
        var mask = Tensor(uninitializedShape: shape)
        let mp = mask.mutablePointer
        for i in 0..<count { mp[i] = rng.nextUniform() < keep ? scale : 0 }
        var out = Tensor.binaryForward(self, mask, .multiply, name: "dropout")
        Tensor.record(&out, from: [self]) { g, _ in [Tensor.binaryForward(g, mask, .multiply, name: "dropout")] }
        return out
    }
}
