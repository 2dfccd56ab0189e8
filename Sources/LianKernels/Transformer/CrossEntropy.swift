// Cross-entropy over logits with an ignore index: a fused log-softmax, never a one-hot.
//
// N = rows (B·T), V = vocabulary. loss = (1/n) Σ_{valid r} (logsumexp(x_r) − x_r[t_r]),
// n = the number of rows whose target is not `ignoreIndex`.
// dx_r = (softmax(x_r) − onehot(t_r)) · dloss / n for valid rows, 0 for ignored rows.
// The forward pass saves logsumexp per row so that the backward pass recomputes the softmax
// instead of keeping an N×V probability matrix.

public enum CrossEntropy {
    /// Returns the mean loss and the number of counted rows; writes logsumexp [N].
    public static func forward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafeMutablePointer<Float>,
        rows: Int, vocab: Int, ignoreIndex: Int32
    ) -> (loss: Float, count: Int) {
        let X = SendablePointer(logits), L = SendablePointer(logSumExp)
        parallelChunks(rows, minChunk: max(1, elementwiseGrain / max(1, vocab))) { range in
            for r in range { L.base[r] = rowLogSumExp(X.base + r * vocab, vocab) }
        }
        var total = 0.0
        var count = 0
        for r in 0..<rows {
            let t = targets[r]
            if t == ignoreIndex { continue }
            precondition(t >= 0 && Int(t) < vocab, "[crossEntropy] target \(t) at row \(r) is outside 0..<\(vocab)")
            total += Double(logSumExp[r]) - Double(logits[r * vocab + Int(t)])
            count += 1
        }
        // With every row ignored the loss is 0 (PyTorch gives NaN); nothing is learned from it.
        return (count > 0 ? Float(total / Double(count)) : 0, count)
    }

    /// Writes dlogits [N, V] for an upstream gradient `dLoss` of the mean loss.
    public static func backward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, logSumExp: UnsafePointer<Float>,
        dLoss: Float, count: Int, dLogits: UnsafeMutablePointer<Float>, rows: Int, vocab: Int, ignoreIndex: Int32
    ) {
        let X = SendablePointer(logits), Tg = SendablePointer(targets), L = SendablePointer(logSumExp)
        let DX = SendablePointer(dLogits)
        let scale = count > 0 ? dLoss / Float(count) : 0
        parallelChunks(rows, minChunk: max(1, elementwiseGrain / max(1, vocab))) { range in
            for r in range {
                let xr = X.base + r * vocab, dxr = DX.base + r * vocab
                let t = Tg.base[r]
                if t == ignoreIndex { dxr.update(repeating: 0, count: vocab); continue }
                let lse = SIMD16<Float>(repeating: L.base[r]), vs = SIMD16<Float>(repeating: scale)
                var j = 0
                // x − lse ≤ 0, since lse ≥ the row's maximum.
                while j + 16 <= vocab { store16(expOfNonPositive(load16(xr + j) - lse) * vs, dxr + j); j += 16 }
                if j < vocab {
                    storePartial(expOfNonPositive(loadPartial(xr + j, vocab - j) - lse) * vs, dxr + j, vocab - j)
                }
                dxr[Int(t)] -= scale
            }
        }
    }

    /// log Σ exp(x) over one row, shifted by the row maximum.
    @inline(__always) @usableFromInline
    static func rowLogSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let maxValue = maximumOfRow(x, n)
        let vm = SIMD16<Float>(repeating: maxValue)
        var sum = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { sum += expOfNonPositive(load16(x + i) - vm); i += 16 }
        if i < n { sum += expOfNonPositive(loadPartial(x + i, n - i, fill: -.infinity) - vm) }
        return maxValue + logOf(horizontalSum(sum))
    }

    public static func reference<F: ReferenceScalar>(logits: [F], targets: [Int32], rows: Int, vocab: Int,
                                                     ignoreIndex: Int32) -> F {
        var total: F = 0
        var count = 0
        for r in 0..<rows where targets[r] != ignoreIndex {
            let row = logits[(r * vocab)..<((r + 1) * vocab)]
            let m = row.max()!
            let lse = m + F.log(row.map { F.exp($0 - m) }.reduce(0, +))
            total += lse - logits[r * vocab + Int(targets[r])]
            count += 1
        }
        return count > 0 ? total / F(count) : 0
    }
}

/// One scalar log per row is not a hot loop; it goes through the reference-precision function.
@inline(__always) @usableFromInline
func logOf(_ x: Float) -> Float { Float.log(x) }
