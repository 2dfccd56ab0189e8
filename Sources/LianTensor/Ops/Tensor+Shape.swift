import LianKernels

// Layout changes. `reshaped` and `slice` along axis 0 share memory with their source; the others
// copy into a new contiguous tensor.

extension Tensor {
    /// The same elements in a new shape; one dimension may be −1 (inferred). Shares memory.
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "[reshape] cannot infer -1 in \(newShape) for \(count) elements")
            target[inferred] = count / known
        }
        precondition(target.reduce(1, *) == count, "[reshape] shape \(shape) (\(count) elements) cannot become \(newShape)")
        var out = reshapedView(target)
        let inShape = shape
        Tensor.record(&out, from: [self]) { g, _ in [g.reshaped(to: inShape)] }
        return out
    }

    /// A view with another shape and no autograd record (for ops that record their own).
    func reshapedView(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage, offset: offset)
    }

    /// Dimensions reordered: dimension i of the result is dimension `order[i]` of self.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "[permute] \(order) is not a permutation of 0..<\(rank)")
        let outShape = order.map { shape[$0] }
        var out = Tensor(uninitializedShape: outShape)
        // Source strides, read in the result's order.
        var strides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        let srcStrides = order.map { strides[$0] }
        copyStrided(from: pointer, shape: outShape, strides: srcStrides, to: out.mutablePointer)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        Tensor.record(&out, from: [self]) { g, _ in [withNoGrad { g.permuted(inverse) }] }
        return out
    }

    /// Dimensions `a` and `b` swapped (by default the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(axis(a, op: "transpose"), axis(b, op: "transpose"))
        return permuted(order)
    }

    /// Elements `range` along `axis`. Along axis 0 this is a view that shares memory.
    public func slice(axis a: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis(a, op: "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax],
                     "[slice] range \(range) outside 0..<\(shape[ax]) on axis \(ax)")
        let (outer, n, inner) = splitAround(ax)
        var outShape = shape
        outShape[ax] = range.count
        var out: Tensor
        if outer == 1 {
            out = Tensor(shape: outShape, storage: storage, offset: offset + range.lowerBound * inner)
        } else {
            out = Tensor(uninitializedShape: outShape)
            for i in 0..<outer {
                (out.mutablePointer + i * range.count * inner)
                    .update(from: pointer + (i * n + range.lowerBound) * inner, count: range.count * inner)
            }
        }
        let inShape = shape
        Tensor.record(&out, from: [self]) { g, _ in
            var dx = Tensor.zeros(inShape)
            for i in 0..<outer {
                (dx.mutablePointer + (i * n + range.lowerBound) * inner)
                    .update(from: g.pointer + i * range.count * inner, count: range.count * inner)
            }
            return [dx]
        }
        return out
    }

    /// Tensors joined along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis a: Int) -> Tensor {
        precondition(!tensors.isEmpty, "[concat] no tensors")
        let first = tensors[0]
        let ax = first.axis(a, op: "concat")
        for t in tensors {
            precondition(t.rank == first.rank && t.shape.enumerated().allSatisfy { $0.offset == ax || $0.element == first.shape[$0.offset] },
                         "[concat] shape \(t.shape) does not match \(first.shape) outside axis \(ax)")
        }
        let sizes = tensors.map { $0.shape[ax] }
        var outShape = first.shape
        outShape[ax] = sizes.reduce(0, +)
        var out = Tensor(uninitializedShape: outShape)
        let (outer, total, inner) = out.splitAround(ax)
        var start = 0
        for (t, n) in zip(tensors, sizes) {
            for i in 0..<outer {
                (out.mutablePointer + (i * total + start) * inner).update(from: t.pointer + i * n * inner, count: n * inner)
            }
            start += n
        }
        record(&out, from: tensors) { g, needs in
            var begin = 0
            return zip(sizes, needs).map { n, need in
                defer { begin += n }
                return need ? withNoGrad { g.slice(axis: ax, begin..<(begin + n)) } : nil
            }
        }
        return out
    }

    /// The tensor stretched to `target` by broadcasting (copies).
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(broadcastShape(shape, target, op: "broadcast") == target, "[broadcast] \(shape) cannot broadcast to \(target)")
        var out = Tensor(uninitializedShape: target)
        copyStrided(from: pointer, shape: target, strides: broadcastStrides(shape, to: target), to: out.mutablePointer)
        let inShape = shape
        Tensor.record(&out, from: [self]) { g, _ in [withNoGrad { g.summed(toShape: inShape) }] }
        return out
    }
}

/// Copies a strided view (`strides` in source elements, one per dimension of `shape`) into
/// contiguous row-major memory.
func copyStrided(from src: UnsafePointer<Float>, shape: [Int], strides: [Int], to dst: UnsafeMutablePointer<Float>) {
    let zeroStrides = [Int](repeating: 0, count: shape.count)
    forEachBroadcastRun(shape: shape, aStrides: strides, bStrides: zeroStrides) { oi, si, _, run, step, _ in
        if step == 1 {
            (dst + oi).update(from: src + si, count: run)
        } else {
            for j in 0..<run { dst[oi + j] = src[si + j * step] }
        }
    }
}
