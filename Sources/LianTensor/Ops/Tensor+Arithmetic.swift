import LianKernels

// Elementwise arithmetic with NumPy broadcasting: shapes are aligned from the right, and a
// dimension of 1 (or a missing one) stretches to match. The gradient of a broadcast input is the
// output gradient summed back to the input's shape.

/// The shape two broadcast operands produce.
func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        precondition(da == db || da == 1 || db == 1, "[\(op)] shapes \(a) and \(b) do not broadcast")
        out[i] = max(da, db)
    }
    return out
}

/// Element strides of `shape` read as `target` (0 along broadcast dimensions).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: target.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let ti = i + target.count - shape.count
        strides[ti] = shape[i] == 1 && target[ti] != 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

/// Visits every element of `shape` in row-major order, calling `body(outIndex, aIndex, bIndex, run)`
/// once per run of `run` consecutive innermost elements.
func forEachBroadcastRun(shape: [Int], aStrides: [Int], bStrides: [Int],
                         _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let rank = shape.count
    if rank == 0 { body(0, 0, 0, 1, 0, 0); return }
    let inner = shape[rank - 1], aInner = aStrides[rank - 1], bInner = bStrides[rank - 1]
    let outer = shape.dropLast().reduce(1, *)
    var index = [Int](repeating: 0, count: max(0, rank - 1))
    var ai = 0, bi = 0
    for o in 0..<outer {
        body(o * inner, ai, bi, inner, aInner, bInner)
        // Advance the outer multi-index like an odometer.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1; ai += aStrides[d]; bi += bStrides[d]
            if index[d] < shape[d] { break }
            ai -= aStrides[d] * shape[d]; bi -= bStrides[d] * shape[d]; index[d] = 0
            d -= 1
        }
    }
}

enum BinaryOp: Sendable { case add, subtract, multiply, divide }

extension Tensor {
    /// The forward of a broadcast binary op, vectorized along the innermost dimension.
    static func binaryForward(_ a: Tensor, _ b: Tensor, _ op: BinaryOp, name: String) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape, op: name)
        var out = Tensor(uninitializedShape: shape)
        let o = out.mutablePointer, pa = a.pointer, pb = b.pointer
        @Sendable @inline(__always) func apply(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
            switch op {
            case .add: return x + y
            case .subtract: return x - y
            case .multiply: return x * y
            case .divide: return x / y
            }
        }
        if a.shape == b.shape {
            let O = SendablePointer(o), A = SendablePointer(pa), B = SendablePointer(pb)
            let n = out.count
            parallelChunks((n + 15) / 16, minChunk: 1 << 12) { vectors in
                let end = Swift.min(n, vectors.upperBound * 16)
                var i = vectors.lowerBound * 16
                while i + 16 <= end { store16(apply(load16(A.base + i), load16(B.base + i)), O.base + i); i += 16 }
                if i < end {
                    storePartial(apply(loadPartial(A.base + i, end - i, fill: 1), loadPartial(B.base + i, end - i, fill: 1)), O.base + i, end - i)
                }
            }
            return out
        }
        forEachBroadcastRun(shape: shape, aStrides: broadcastStrides(a.shape, to: shape),
                            bStrides: broadcastStrides(b.shape, to: shape)) { oi, ai, bi, run, sa, sb in
            if sa == 1 && sb == 1 {
                var j = 0
                while j + 16 <= run { store16(apply(load16(pa + ai + j), load16(pb + bi + j)), o + oi + j); j += 16 }
                if j < run {
                    storePartial(apply(loadPartial(pa + ai + j, run - j, fill: 1), loadPartial(pb + bi + j, run - j, fill: 1)), o + oi + j, run - j)
                }
            } else {
                for j in 0..<run {
                    let x = pa[ai + j * sa], y = pb[bi + j * sb]
                    switch op {
                    case .add: o[oi + j] = x + y
                    case .subtract: o[oi + j] = x - y
                    case .multiply: o[oi + j] = x * y
                    case .divide: o[oi + j] = x / y
                    }
                }
            }
        }
        return out
    }

    /// Sums a broadcast gradient back down to `shape`.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(target.reduce(1, *) <= count, "[sumToShape] \(target) is larger than \(shape)")
        var result = self
        // Sum away leading dimensions that the target lacks, then the stretched ones (keeping them).
        while result.rank > target.count { result = result.sum(axis: 0) }
        for (i, d) in target.enumerated() where d == 1 && result.shape[i] != 1 {
            result = result.sum(axis: i, keepingDimension: true)
        }
        return result.reshaped(to: target)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        var out = binaryForward(a, b, .add, name: "add")
        // Capture the shapes, not the tensors: a pullback that holds its inputs keeps their
        // storage alive until the backward pass.
        let (shapeA, shapeB) = (a.shape, b.shape)
        record(&out, from: [a, b]) { g, needs in
            [needs[0] ? g.summed(toShape: shapeA) : nil, needs[1] ? g.summed(toShape: shapeB) : nil]
        }
        return out
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        var out = binaryForward(a, b, .subtract, name: "subtract")
        let (shapeA, shapeB) = (a.shape, b.shape)
        record(&out, from: [a, b]) { g, needs in
            [needs[0] ? g.summed(toShape: shapeA) : nil, needs[1] ? (-g).summed(toShape: shapeB) : nil]
        }
        return out
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        var out = binaryForward(a, b, .multiply, name: "multiply")
        let (sa, sb) = (a.detached(), b.detached())
        record(&out, from: [a, b]) { g, needs in
            withNoGrad {
                [needs[0] ? (g * sb).summed(toShape: sa.shape) : nil, needs[1] ? (g * sa).summed(toShape: sb.shape) : nil]
            }
        }
        return out
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        var out = binaryForward(a, b, .divide, name: "divide")
        let (sa, sb) = (a.detached(), b.detached())
        record(&out, from: [a, b]) { g, needs in
            withNoGrad {
                [needs[0] ? (g / sb).summed(toShape: sa.shape) : nil,
                 needs[1] ? (-(g * sa) / (sb * sb)).summed(toShape: sb.shape) : nil]
            }
        }
        return out
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.scaled(by: s) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.scaled(by: s) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.scaled(by: 1 / s) }

    public static prefix func - (a: Tensor) -> Tensor { a.scaled(by: -1) }

    /// self · s.
    public func scaled(by s: Float) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let n = count, p = pointer, o = out.mutablePointer
        let v = SIMD16<Float>(repeating: s)
        var i = 0
        while i + 16 <= n { store16(load16(p + i) * v, o + i); i += 16 }
        if i < n { storePartial(loadPartial(p + i, n - i) * v, o + i, n - i) }
        Tensor.record(&out, from: [self]) { g, _ in [withNoGrad { g.scaled(by: s) }] }
        return out
    }

    /// e^x, elementwise (SIMD polynomial).
    public func exp() -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        Activations.exp(pointer, out.mutablePointer, count)
        let y = out.detached()
        Tensor.record(&out, from: [self]) { g, _ in [withNoGrad { g * y }] }
        return out
    }

    /// self += other (same shape), in place, outside autograd: for accumulating gradients.
    public mutating func addInPlace(_ other: Tensor) {
        precondition(shape == other.shape, "[addInPlace] shapes \(shape) and \(other.shape) differ")
        let O = SendablePointer(mutablePointer), P = SendablePointer(other.pointer)
        let n = count
        parallelChunks((n + 15) / 16, minChunk: 1 << 12) { vectors in
            let end = Swift.min(n, vectors.upperBound * 16)
            var i = vectors.lowerBound * 16
            while i + 16 <= end { store16(load16(O.base + i) + load16(P.base + i), O.base + i); i += 16 }
            while i < end { O.base[i] += P.base[i]; i += 1 }
        }
    }
}
