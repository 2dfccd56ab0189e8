import LianKernels

// Sums, means and maxima, over everything or along one axis. A reduction along axis `a` views the
// tensor as [outer, n, inner] and reduces the middle dimension; sums accumulate in Double so that
// long reductions stay accurate.

extension Tensor {
    /// The sum of all elements, as a rank-0 tensor.
    public func sum() -> Tensor {
        var total = 0.0
        withUnsafeBufferPointer { b in
            var i = 0
            var acc = SIMD16<Float>()
            // Blocks of 16·256 floats are summed in Float, the blocks in Double.
            while i < b.count {
                let end = Swift.min(b.count, i + 4096)
                acc = SIMD16<Float>()
                var j = i
                while j + 16 <= end { acc += load16(b.baseAddress! + j); j += 16 }
                var tail: Float = 0
                while j < end { tail += b[j]; j += 1 }
                total += Double(acc.sum()) + Double(tail)
                i = end
            }
        }
        var out = Tensor(Float(total))
        let inShape = shape
        Tensor.record(&out, from: [self]) { g, _ in [Tensor.full(inShape, g.item)] }
        return out
    }

    /// The mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor { sum().scaled(by: 1 / Float(Swift.max(1, count))) }

    /// The sum along `axis`, dropping it unless `keepingDimension`.
    public func sum(axis a: Int, keepingDimension: Bool = false) -> Tensor {
        let ax = axis(a, op: "sum")
        let (outer, n, inner) = splitAround(ax)
        var outShape = shape
        outShape[ax] = 1
        var out = Tensor(uninitializedShape: outShape)
        let P = SendablePointer(pointer), O = SendablePointer(out.mutablePointer)
        // Threads split the inner columns when there is one outer slice (a bias gradient: sum over
        // rows), else the outer slices.
        let splitInner = outer == 1
        parallelChunks(splitInner ? (inner + 15) / 16 : outer, minChunk: splitInner ? Swift.max(1, 4096 / Swift.max(1, n)) : 1) { range in
            let (outerRange, columns) = splitInner
                ? (0..<1, (range.lowerBound * 16)..<Swift.min(inner, range.upperBound * 16))
                : (range, 0..<inner)
            for i in outerRange {
                let dst = O.base + i * inner
                (dst + columns.lowerBound).update(repeating: 0, count: columns.count)
                for k in 0..<n {
                    let src = P.base + (i * n + k) * inner
                    var j = columns.lowerBound
                    while j + 16 <= columns.upperBound { store16(load16(dst + j) + load16(src + j), dst + j); j += 16 }
                    while j < columns.upperBound { dst[j] += src[j]; j += 1 }
                }
            }
        }
        if !keepingDimension { outShape.remove(at: ax); out = out.reshapedView(outShape) }
        let inShape = shape, keptShape = shape.enumerated().map { $0.offset == ax ? 1 : $0.element }
        Tensor.record(&out, from: [self]) { g, _ in
            [withNoGrad { g.reshaped(to: keptShape).broadcast(to: inShape) }]
        }
        return out
    }

    /// The mean along `axis`.
    public func mean(axis a: Int, keepingDimension: Bool = false) -> Tensor {
        let n = shape[axis(a, op: "mean")]
        return sum(axis: a, keepingDimension: keepingDimension).scaled(by: 1 / Float(Swift.max(1, n)))
    }

    /// The largest element, as a rank-0 tensor. The gradient goes to the first largest element.
    public func max() -> Tensor {
        reshaped(to: [count]).max(axis: 0)
    }

    /// The maximum along `axis`. The gradient goes to the first maximal element of each slice.
    public func max(axis a: Int, keepingDimension: Bool = false) -> Tensor {
        let ax = axis(a, op: "max")
        precondition(shape[ax] > 0, "[max] axis \(ax) of shape \(shape) is empty")
        let (outer, n, inner) = splitAround(ax)
        var outShape = shape
        outShape[ax] = 1
        var out = Tensor(uninitializedShape: outShape)
        var argmax = [Int32](repeating: 0, count: outer * inner)
        let p = pointer, o = out.mutablePointer
        for i in 0..<outer {
            for j in 0..<inner {
                var best = p[i * n * inner + j], where_ = 0
                for k in 1..<n {
                    let v = p[(i * n + k) * inner + j]
                    if v > best || (v != v && best == best) { best = v; where_ = k }
                }
                o[i * inner + j] = best
                argmax[i * inner + j] = Int32(where_)
            }
        }
        if !keepingDimension { outShape.remove(at: ax); out = out.reshapedView(outShape) }
        let inShape = shape
        Tensor.record(&out, from: [self]) { g, _ in
            var dx = Tensor.zeros(inShape)
            let gp = g.pointer, d = dx.mutablePointer
            for i in 0..<outer {
                for j in 0..<inner { d[(i * n + Int(argmax[i * inner + j])) * inner + j] = gp[i * inner + j] }
            }
            return [dx]
        }
        return out
    }

    /// (product of dims before `ax`, dim `ax`, product of dims after `ax`).
    func splitAround(_ ax: Int) -> (Int, Int, Int) {
        (shape[..<ax].reduce(1, *), shape[ax], shape[(ax + 1)...].reduce(1, *))
    }
}
