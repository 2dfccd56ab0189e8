import LianKernels

extension Tensor {
    /// y = x · op(W) + bias with W held in NF4 (QLoRA's frozen base): W is dequantized a tile of
    /// rows at a time (≤ 1 MiB of Float32) and multiplied at once, so no full Float32 copy exists.
    /// W is frozen: the backward pass gives dx (and dbias), never dW.
    ///
    /// x [..., in]; W stored [out, in] (op = ᵀ) or, with `inputMajor`, [in, out] (GPT-2's Conv1D).
    ///   [out, in]:  y[:, tile] = x · tileᵀ         dx += dy[:, tile] · tile
    ///   [in, out]:  y += x[:, tile] · tile          dx[:, tile] = dy · tileᵀ
    public func linear(nf4Weight w: NF4Matrix, inputMajor: Bool, bias: Tensor? = nil) -> Tensor {
        let x = self
        let inF = inputMajor ? w.rows : w.columns
        let outF = inputMajor ? w.columns : w.rows
        precondition(x.shape.last == inF, "[linear-nf4] input width \(x.shape.last ?? 0) differs from the weight's \(inF)")
        if let bias { precondition(bias.shape == [outF], "[linear-nf4] bias shape \(bias.shape) is not [\(outF)]") }
        let rows = x.count / Swift.max(1, inF)
        let absmax = w.absmax
        let tileRows = Swift.max(1, Swift.min(w.rows, (1 << 18) / Swift.max(1, w.columns)))
        var out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
        let o = out.mutablePointer
        // Tiles come from the buffer pool: the same size every call, so one buffer serves them all
        // (fresh 1 MiB mallocs fragment the heap and stay resident).
        let (tile, tileCapacity) = BufferPool.shared.take(tileRows * w.columns)
        defer { BufferPool.shared.give(tile, capacity: tileCapacity) }
        for start in stride(from: 0, to: w.rows, by: tileRows) {
            let n = Swift.min(tileRows, w.rows - start)
            w.dequantize(rows: start..<(start + n), absmax: absmax, into: tile)
            if inputMajor {
                Kernels.backend.sgemm(transA: false, transB: false, m: rows, n: outF, k: n, a: x.pointer + start, lda: inF,
                                      b: tile, ldb: outF, beta: start == 0 ? 0 : 1, c: o, ldc: outF,
                                      bias: start == 0 ? bias?.pointer : nil)
            } else {
                Kernels.backend.sgemm(transA: false, transB: true, m: rows, n: n, k: inF, a: x.pointer, lda: inF,
                                      b: tile, ldb: inF, c: o + start, ldc: outF, bias: bias.map { $0.pointer + start })
            }
        }
        let inputShape = x.shape                        // not x: the backward pass needs no input
        Tensor.record(&out, from: [x] + (bias.map { [$0] } ?? [])) { g, needs in
            var dx: Tensor?, db: Tensor?
            if needs[0] {
                var t = Tensor(uninitializedShape: inputShape)
                let d = t.mutablePointer
                let (tile, tileCapacity) = BufferPool.shared.take(tileRows * w.columns)
                defer { BufferPool.shared.give(tile, capacity: tileCapacity) }
                for start in stride(from: 0, to: w.rows, by: tileRows) {
                    let n = Swift.min(tileRows, w.rows - start)
                    w.dequantize(rows: start..<(start + n), absmax: absmax, into: tile)
                    if inputMajor {
                        Kernels.backend.sgemm(transA: false, transB: true, m: rows, n: n, k: outF, a: g.pointer, lda: outF,
                                              b: tile, ldb: outF, c: d + start, ldc: inF)
                    } else {
                        Kernels.backend.sgemm(transA: false, transB: false, m: rows, n: inF, k: n, a: g.pointer + start, lda: outF,
                                              b: tile, ldb: inF, beta: start == 0 ? 0 : 1, c: d, ldc: inF)
                    }
                }
                dx = t
            }
            if needs.count > 1 && needs[1] { db = withNoGrad { g.reshaped(to: [rows, outF]).sum(axis: 0) } }
            return needs.count > 1 ? [dx, db] : [dx]
        }
        return out
    }
}
