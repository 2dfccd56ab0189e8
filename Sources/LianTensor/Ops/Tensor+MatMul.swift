import LianKernels

// Matrix products on the SGEMM kernels.
//
// matmul: a [..., M, K] · b [..., K, N] → [..., M, N]. The batch dimensions must match, or b is
// 2-D and shared by every batch (then the product is one big GEMM with M·batch rows).
// Backward: dA = dC · Bᵀ,  dB = Aᵀ · dC (summed over the batch when b is shared).

extension Tensor {
    public func matmul(_ other: Tensor) -> Tensor {
        let a = self, b = other
        precondition(a.rank >= 2 && b.rank >= 2, "[matmul] operands need rank ≥ 2, got \(a.shape) and \(b.shape)")
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        precondition(k == k2, "[matmul] inner dimensions \(k) and \(k2) differ (\(a.shape) · \(b.shape))")
        let batchShape = Array(a.shape.dropLast(2))
        let sharedB = b.rank == 2
        precondition(sharedB || Array(b.shape.dropLast(2)) == batchShape,
                     "[matmul] batch dimensions of \(a.shape) and \(b.shape) differ")
        let batch = batchShape.reduce(1, *)
        var out = Tensor(uninitializedShape: batchShape + [m, n])
        Tensor.gemmBatched(transA: false, transB: false, a: a, b: b, c: &out, m: m, n: n, k: k,
                           batch: batch, sharedB: sharedB, beta: 0)
        let (sa, sb) = (a.detached(), b.detached())
        Tensor.record(&out, from: [a, b]) { g, needs in
            var da: Tensor?, db: Tensor?
            if needs[0] {   // dA [.., M, K] = dC [.., M, N] · Bᵀ
                var t = Tensor(uninitializedShape: sa.shape)
                Tensor.gemmBatched(transA: false, transB: true, a: g, b: sb, c: &t, m: m, n: k, k: n,
                                   batch: batch, sharedB: sharedB, beta: 0)
                da = t
            }
            if needs[1] {   // dB [.., K, N] = Aᵀ · dC
                var t = Tensor(uninitializedShape: sb.shape)
                if sharedB {
                    // One GEMM over all batch rows: [K, batch·M] · [batch·M, N].
                    Kernels.backend.sgemm(transA: true, transB: false, m: k, n: n, k: batch * m, a: sa.pointer, lda: k,
                               b: g.pointer, ldb: n, c: t.mutablePointer, ldc: n)
                } else {
                    Tensor.gemmBatched(transA: true, transB: false, a: sa, b: g, c: &t, m: k, n: n, k: m,
                                       batch: batch, sharedB: false, beta: 0)
                }
                db = t
            }
            return [da, db]
        }
        return out
    }

    /// Runs one GEMM per batch entry (or one big GEMM when b is shared and a is not transposed).
    /// Shapes are those of op(a) [m×k] and op(b) [k×n] per batch entry.
    static func gemmBatched(transA: Bool, transB: Bool, a: Tensor, b: Tensor, c: inout Tensor,
                            m: Int, n: Int, k: Int, batch: Int, sharedB: Bool, beta: Float) {
        let lda = transA ? m : k, ldb = transB ? k : n
        let cp = c.mutablePointer
        if sharedB && !transA {
            Kernels.backend.sgemm(transA: false, transB: transB, m: batch * m, n: n, k: k, a: a.pointer, lda: lda,
                       b: b.pointer, ldb: ldb, beta: beta, c: cp, ldc: n)
            return
        }
        let A = SendablePointer(a.pointer), B = SendablePointer(b.pointer), C = SendablePointer(cp)
        let bStride = sharedB ? 0 : k * n
        // Many small products: one per thread; few large ones: each uses every thread.
        let small = m * n * k < (1 << 18)
        // (Small products run single-threaded inside sgemm too, so the parallelism never nests.)
        let backend = Kernels.backend
        let body: @Sendable (Int) -> Void = { i in
            let aStart = UnsafePointer(A.base + i * m * k)
            let bStart = UnsafePointer(B.base + i * bStride)
            backend.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: aStart, lda: lda,
                          b: bStart, ldb: ldb, beta: beta, c: C.base + i * m * n, ldc: n)
        }
        if small { parallelFor(batch, body) } else { for i in 0..<batch { body(i) } }
    }

    /// y = x · Wᵀ + bias, with x [..., in], weight [out, in] (PyTorch's Linear layout), bias [out].
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        affine(weight: weight, bias: bias, inputMajor: false)
    }

    /// y = x · W + bias, with x [..., in], weight [in, out] (GPT-2's Conv1D layout), bias [out].
    public func linear(inputMajorWeight weight: Tensor, bias: Tensor? = nil) -> Tensor {
        affine(weight: weight, bias: bias, inputMajor: true)
    }

    /// The shared linear map. Rows = all leading dimensions of x flattened.
    ///   forward:  Y = X·op(W) + b         (op(W) = Wᵀ for [out, in], W for [in, out])
    ///   backward: dX = dY·op(W)ᵀ,  dW = dYᵀ·X  ([out, in])  or  Xᵀ·dY  ([in, out]),  db = Σ_rows dY
    func affine(weight: Tensor, bias: Tensor?, inputMajor: Bool) -> Tensor {
        let x = self
        precondition(weight.rank == 2, "[linear] weight must be 2-D, got \(weight.shape)")
        let inF = inputMajor ? weight.shape[0] : weight.shape[1]
        let outF = inputMajor ? weight.shape[1] : weight.shape[0]
        precondition(x.shape.last == inF, "[linear] input width \(x.shape.last ?? 0) differs from the weight's \(inF) (weight \(weight.shape))")
        if let bias { precondition(bias.shape == [outF], "[linear] bias shape \(bias.shape) is not [\(outF)]") }
        let rows = x.count / Swift.max(1, inF)
        var out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
        let o = out.mutablePointer
        let ldw = inputMajor ? outF : inF
        Kernels.backend.sgemm(transA: false, transB: !inputMajor, m: rows, n: outF, k: inF, a: x.pointer, lda: inF,
                              b: weight.pointer, ldb: ldw, c: o, ldc: outF, bias: bias?.pointer)
        // The input is kept for dW only: a frozen weight (LoRA's base, QLoRA) never needs it, and
        // not holding it frees that activation as soon as the next layer is done with it.
        let sx: Tensor? = weight.requiresGrad ? x.detached() : nil
        let sw = weight.detached(), xShape = x.shape
        Tensor.record(&out, from: [x, weight] + (bias.map { [$0] } ?? [])) { g, needs in
            var dx: Tensor?, dw: Tensor?, db: Tensor?
            if needs[0] {
                var t = Tensor(uninitializedShape: xShape)
                Kernels.backend.sgemm(transA: false, transB: inputMajor, m: rows, n: inF, k: outF, a: g.pointer, lda: outF,
                                      b: sw.pointer, ldb: ldw, c: t.mutablePointer, ldc: inF)
                dx = t
            }
            let wantsBias = needs.count > 2 && needs[2]
            if needs[1] {
                if inputMajor {
                    (dw, db) = Tensor.inputMajorWeightGradient(input: sx!, outputGradient: g, rows: rows, withBias: wantsBias)
                } else {
                    var t = Tensor(uninitializedShape: sw.shape)
                    Kernels.backend.sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: g.pointer, lda: outF,
                                          b: sx!.pointer, ldb: inF, c: t.mutablePointer, ldc: inF)
                    dw = t
                }
            }
            if wantsBias && db == nil { db = Tensor.biasGradient(outputGradient: g, rows: rows) }
            return needs.count > 2 ? [dx, dw, db] : [dx, dw]
        }
        return out
    }

    /// dW = Xᵀ·dY for a weight in the [in, out] layout (x: rows × in, dY: rows × out), and, when
    /// asked, the bias gradient Σ_rows dY: the product packs dY anyway and sums its columns on the
    /// way, instead of a pass of its own.
    static func inputMajorWeightGradient(input x: Tensor, outputGradient g: Tensor, rows: Int,
                                         withBias: Bool) -> (weight: Tensor, bias: Tensor?) {
        let inF = x.shape.last ?? 0, outF = g.shape.last ?? 0
        var dw = Tensor(uninitializedShape: [inF, outF])
        var db = withBias ? Tensor(uninitializedShape: [outF]) : nil
        Kernels.backend.sgemm(transA: true, transB: false, m: inF, n: outF, k: rows, a: x.pointer, lda: inF,
                              b: g.pointer, ldb: outF, c: dw.mutablePointer, ldc: outF, columnSums: db?.mutablePointer)
        return (dw, db)
    }

    /// Σ_rows dY (dY: rows × out), for a bias whose weight gets no gradient.
    static func biasGradient(outputGradient g: Tensor, rows: Int) -> Tensor {
        withNoGrad { g.reshaped(to: [rows, g.shape.last ?? 0]).sum(axis: 0) }
    }
}
