import LianKernels

// GPT-2's MLP as one op: the two linear maps with GELU between them, GELU fused into the
// products (GEMMEpilogue) instead of running as passes of their own over the hidden activations.
//
//   x [..., in] · W1 [in, hidden] + b1 = H;  G = GELU(H);  y = G · W2 [hidden, out] + b2
//   forward:  G (and GELU′(H) when recording) written block by block as the first product
//             finishes them; H itself is never kept
//   backward: dW2 = Gᵀ·dy (db2 its column sums),  dH = (dy · W2ᵀ) ⊙ GELU′(H)  (fused),
//             dW1 = xᵀ·dH (db1 its column sums),  dx = dH · W1ᵀ
//
// The same kernels, calls and floats as linear(inputMajorWeight:) → gelu() → linear(...), so the
// same bits (tested); what changes is that neither H nor dy·W2ᵀ makes a round trip through memory.

extension Tensor {
    /// y = GELU(x·W1 + b1)·W2 + b2, with both weights in the [in, out] (Conv1D) layout.
    public func geluFeedForward(inputMajorWeight w1: Tensor, bias b1: Tensor?,
                                outputWeight w2: Tensor, outputBias b2: Tensor?) -> Tensor {
        let x = self
        precondition(w1.rank == 2 && w2.rank == 2, "[geluFeedForward] weights must be 2-D, got \(w1.shape) and \(w2.shape)")
        let inF = w1.shape[0], hidden = w1.shape[1], outF = w2.shape[1]
        precondition(x.shape.last == inF, "[geluFeedForward] input width \(x.shape.last ?? 0) differs from the weight's \(inF)")
        precondition(w2.shape[0] == hidden, "[geluFeedForward] the second weight \(w2.shape) does not take the first's \(hidden) outputs")
        if let b1 { precondition(b1.shape == [hidden], "[geluFeedForward] bias shape \(b1.shape) is not [\(hidden)]") }
        if let b2 { precondition(b2.shape == [outF], "[geluFeedForward] bias shape \(b2.shape) is not [\(outF)]") }
        let rows = x.count / Swift.max(1, inF)
        let leading = Array(x.shape.dropLast())
        let inputs = [x, w1] + (b1.map { [$0] } ?? []) + [w2] + (b2.map { [$0] } ?? [])
        let recording = GradMode.isEnabled && inputs.contains { $0.requiresGrad }

        var g = Tensor(uninitializedShape: leading + [hidden])
        var derivative = recording ? Tensor(uninitializedShape: leading + [hidden]) : nil
        let epilogue: GEMMEpilogue = derivative == nil ? .gelu : .geluSavingDerivative(into: derivative!.mutablePointer, ld: hidden)
        Kernels.backend.sgemm(transA: false, transB: false, m: rows, n: hidden, k: inF, a: x.pointer, lda: inF,
                              b: w1.pointer, ldb: hidden, c: g.mutablePointer, ldc: hidden, bias: b1?.pointer, epilogue: epilogue)
        var out = Tensor(uninitializedShape: leading + [outF])
        Kernels.backend.sgemm(transA: false, transB: false, m: rows, n: outF, k: hidden, a: g.pointer, lda: hidden,
                              b: w2.pointer, ldb: outF, c: out.mutablePointer, ldc: outF, bias: b2?.pointer)
        guard recording, let d = derivative else { return out }

        // Kept for the backward: x only for dW1 and G only for dW2 (a frozen weight needs neither).
        let sx: Tensor? = w1.requiresGrad ? x.detached() : nil
        let sg: Tensor? = w2.requiresGrad ? g : nil
        let sw1 = w1.detached(), sw2 = w2.detached(), xShape = x.shape
        let hasB1 = b1 != nil, hasB2 = b2 != nil
        Tensor.record(&out, from: inputs) { dy, needs in
            // needs follows `inputs`: x, w1, (b1), w2, (b2).
            let needsX = needs[0], needsW1 = needs[1], needsB1 = hasB1 && needs[2]
            let w2Index = hasB1 ? 3 : 2
            let needsW2 = needs[w2Index], needsB2 = hasB2 && needs[w2Index + 1]
            var dx: Tensor?, dw1: Tensor?, db1: Tensor?, dw2: Tensor?, db2: Tensor?
            if needsW2 {
                (dw2, db2) = Tensor.inputMajorWeightGradient(input: sg!, outputGradient: dy, rows: rows, withBias: needsB2)
            }
            if needsB2 && db2 == nil { db2 = Tensor.biasGradient(outputGradient: dy, rows: rows) }
            if needsX || needsW1 || needsB1 {
                var dh = Tensor(uninitializedShape: leading + [hidden])
                Kernels.backend.sgemm(transA: false, transB: true, m: rows, n: hidden, k: outF, a: dy.pointer, lda: outF,
                                      b: sw2.pointer, ldb: outF, c: dh.mutablePointer, ldc: hidden,
                                      epilogue: .multiply(by: d.pointer, ld: hidden))
                if needsX {
                    var t = Tensor(uninitializedShape: xShape)
                    Kernels.backend.sgemm(transA: false, transB: true, m: rows, n: inF, k: hidden, a: dh.pointer, lda: hidden,
                                          b: sw1.pointer, ldb: hidden, c: t.mutablePointer, ldc: inF)
                    dx = t
                }
                if needsW1 {
                    (dw1, db1) = Tensor.inputMajorWeightGradient(input: sx!, outputGradient: dh, rows: rows, withBias: needsB1)
                }
                if needsB1 && db1 == nil { db1 = Tensor.biasGradient(outputGradient: dh, rows: rows) }
            }
            return [dx, dw1] + (hasB1 ? [db1] : []) + [dw2] + (hasB2 ? [db2] : [])
        }
        return out
    }
}
