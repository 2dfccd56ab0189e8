import LianKernels

extension Tensor {
    /// LayerNorm over the last axis: (x − mean) / √(var + eps) · weight + bias.
    public func layerNorm(weight: Tensor, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        let cols = shape.last ?? 1, rows = count / Swift.max(1, cols)
        precondition(weight.shape == [cols], "[layerNorm] weight shape \(weight.shape) is not [\(cols)]")
        if let bias { precondition(bias.shape == [cols], "[layerNorm] bias shape \(bias.shape) is not [\(cols)]") }
        var out = Tensor(uninitializedShape: shape)
        let mean = TensorStorage(count: rows), rstd = TensorStorage(count: rows)
        Kernels.backend.layerNormForward(pointer, gamma: weight.pointer, beta: bias?.pointer, out.mutablePointer,
                                         mean: mean.pointer, rstd: rstd.pointer, rows: rows, cols: cols, eps: eps)
        let (x, w) = (detached(), weight.detached())
        let hasBias = bias != nil
        Tensor.record(&out, from: [self, weight] + (bias.map { [$0] } ?? [])) { g, _ in
            var dx = Tensor(uninitializedShape: x.shape)
            var dw = Tensor(uninitializedShape: [cols])
            var db = Tensor(uninitializedShape: [cols])
            Kernels.backend.layerNormBackward(x.pointer, gamma: w.pointer, mean: mean.pointer, rstd: rstd.pointer,
                                              g.pointer, dx.mutablePointer, dgamma: dw.mutablePointer,
                                              dbeta: db.mutablePointer, rows: rows, cols: cols)
            return hasBias ? [dx, dw, db] : [dx, dw]
        }
        return out
    }

    /// RMSNorm over the last axis: x / √(mean x² + eps) · weight.
    public func rmsNorm(weight: Tensor, eps: Float = 1e-6) -> Tensor {
        let cols = shape.last ?? 1, rows = count / Swift.max(1, cols)
        precondition(weight.shape == [cols], "[rmsNorm] weight shape \(weight.shape) is not [\(cols)]")
        var out = Tensor(uninitializedShape: shape)
        let rstd = TensorStorage(count: rows)
        Kernels.backend.rmsNormForward(pointer, gamma: weight.pointer, out.mutablePointer, rstd: rstd.pointer,
                                       rows: rows, cols: cols, eps: eps)
        let (x, w) = (detached(), weight.detached())
        Tensor.record(&out, from: [self, weight]) { g, _ in
            var dx = Tensor(uninitializedShape: x.shape)
            var dw = Tensor(uninitializedShape: [cols])
            Kernels.backend.rmsNormBackward(x.pointer, gamma: w.pointer, rstd: rstd.pointer, g.pointer,
                                            dx.mutablePointer, dgamma: dw.mutablePointer, rows: rows, cols: cols)
            return [dx, dw]
        }
        return out
    }
}
