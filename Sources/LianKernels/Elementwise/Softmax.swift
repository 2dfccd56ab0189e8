// Row-wise softmax, forward and backward.
//
// rows × cols, row-major. y = exp(x − max) / Σ exp(x − max);  dx = y ⊙ (dy − Σ dy⊙y).

import LianKernelsC

public enum Softmax {
    /// Softmax of one row of `n` values, `x` and `y` may alias.
    @inline(__always) @inlinable
    public static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let total = exponentials(x, into: y, n, prefetching: nil)
        let inv = SIMD16<Float>(repeating: total > 0 ? 1 / total : 0)
        var i = 0
        while i + 16 <= n { store16(load16(y + i) * inv, y + i); i += 16 }
        if i < n { storePartial(loadPartial(y + i, n - i) * inv, y + i, n - i) }
    }

    /// Writes e^(x − max) for a row of `n` values into `e` (which may alias `x`) and returns
    /// their sum; a row of all −inf (fully masked) gives zeros rather than NaN. When `next` is
    /// given, one cache line of it is prefetched per vector of this row: the next row, for rows
    /// of equal width.
    @inline(__always) @inlinable
    static func exponentials(_ x: UnsafePointer<Float>, into e: UnsafeMutablePointer<Float>, _ n: Int,
                             prefetching next: UnsafePointer<Float>?) -> Float {
        let maxValue = maximumOfRow(x, n)
        let shift = SIMD16<Float>(repeating: maxValue == -.infinity ? 0 : maxValue)
        var sum = SIMD16<Float>()
        var i = 0
        if let next {
            while i + 16 <= n {
                lian_prefetch_for_read(next + i)
                let v = expOfNonPositive(load16(x + i) - shift); store16(v, e + i); sum += v; i += 16
            }
        } else {
            while i + 16 <= n { let v = expOfNonPositive(load16(x + i) - shift); store16(v, e + i); sum += v; i += 16 }
        }
        if i < n {
            let v = expOfNonPositive(loadPartial(x + i, n - i, fill: -.infinity) - shift)
            storePartial(v, e + i, n - i); sum += v
        }
        return horizontalSum(sum)
    }

    /// Softmax of one row through a scratch row (`n` floats, in L1), written to `y` with streaming
    /// stores where `y` is 64-byte aligned (plain stores for the unaligned head and the tail):
    /// y's lines are not read before they are written, 8 bytes of memory traffic an element
    /// instead of 12. The same bits as `row`. The caller fences (lian_store_fence) before
    /// handing `y` over.
    @inline(__always) @inlinable
    static func streamedRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                            scratch: UnsafeMutablePointer<Float>, prefetching next: UnsafePointer<Float>?) {
        let total = exponentials(x, into: scratch, n, prefetching: next)
        let invScalar: Float = total > 0 ? 1 / total : 0
        let inv = SIMD16<Float>(repeating: invScalar)
        var j = 0
        while j < n && Int(bitPattern: y + j) & 63 != 0 { y[j] = scratch[j] * invScalar; j += 1 }
        while j + 16 <= n { lian_stream16(load16(scratch + j) * inv, y + j); j += 16 }
        while j < n { y[j] = scratch[j] * invScalar; j += 1 }
    }

    /// In place: the softmax of a row's first `visible` values, and zeros in the rest of its
    /// `width` (a causal attention row). Whole vectors throughout: the last visible vector is
    /// masked to −inf, whose exp is 0, so its tail comes out as the zeros the row needs.
    @inline(__always) @inlinable
    public static func maskedRow(_ row: UnsafeMutablePointer<Float>, visible: Int, width: Int) {
        let covered = (visible + 15) / 16 * 16
        guard covered <= width, visible > 0 else {
            Softmax.row(row, row, visible)
            if visible < width { (row + visible).update(repeating: 0, count: width - visible) }
            return
        }
        let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let lastStart = covered - 16
        let keep = lanes .< SIMD16<Int32>(repeating: Int32(visible - lastStart))
        var m = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i < lastStart { m = simdMax(m, load16(row + i)); i += 16 }
        let last = load16(row + lastStart).replacing(with: -.infinity, where: .!keep)
        m = simdMax(m, last)
        let shift = SIMD16<Float>(repeating: horizontalMax(m))   // finite: lane 0 of the row is visible
        var sum = SIMD16<Float>()
        i = 0
        while i < lastStart {
            let e = expOfNonPositive(load16(row + i) - shift); store16(e, row + i); sum += e; i += 16
        }
        let eLast = expOfNonPositive(last - shift)
        store16(eLast, row + lastStart); sum += eLast
        let inv = SIMD16<Float>(repeating: 1 / horizontalSum(sum))
        i = 0
        while i < covered { store16(load16(row + i) * inv, row + i); i += 16 }
        zeroFill(row + covered, width - covered)
    }

    /// The backward of `maskedRow`, in place on dy: where y is a masked row (zeros past
    /// `visible`), dx = y ⊙ (dy − Σ dy⊙y) over whole vectors is already zero past `visible`;
    /// the rest of `width` is zero-filled.
    @inline(__always) @inlinable
    public static func maskedRowBackward(_ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>, visible: Int, width: Int) {
        let covered = (visible + 15) / 16 * 16
        guard covered <= width else {
            rowBackward(y, dy, dy, visible)
            if visible < width { (dy + visible).update(repeating: 0, count: width - visible) }
            return
        }
        var dot = SIMD16<Float>()
        var i = 0
        while i < covered { dot = dot.addingProduct(load16(y + i), load16(dy + i)); i += 16 }
        let d = SIMD16<Float>(repeating: horizontalSum(dot))
        i = 0
        while i < covered { store16(load16(y + i) * (load16(dy + i) - d), dy + i); i += 16 }
        zeroFill(dy + covered, width - covered)
    }

    @inline(__always) @usableFromInline
    static func zeroFill(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n { store16(SIMD16<Float>(), p + i); i += 16 }
        while i < n { p[i] = 0; i += 1 }
    }

    /// dx = y ⊙ (dy − Σ dy⊙y) for one row; `dx` may alias `dy`.
    @inline(__always) @inlinable
    public static func rowBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                   _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        var dot = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { dot = dot.addingProduct(load16(y + i), load16(dy + i)); i += 16 }
        if i < n { dot = dot.addingProduct(loadPartial(y + i, n - i), loadPartial(dy + i, n - i)) }
        let d = SIMD16<Float>(repeating: horizontalSum(dot))
        i = 0
        while i + 16 <= n { store16(load16(y + i) * (load16(dy + i) - d), dx + i); i += 16 }
        if i < n { storePartial(loadPartial(y + i, n - i) * (loadPartial(dy + i, n - i) - d), dx + i, n - i) }
    }

    /// Softmax over the last axis of a rows × cols matrix. A large output (see StreamingStores;
    /// `streaming` true or false forces the choice) is written with streaming stores while each
    /// next row of x is prefetched. The same bits either way.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                               streaming: Bool? = nil) {
        let X = SendablePointer(x), Y = SendablePointer(y)
        let streams = StreamingStores.suits(streaming, rows: rows, cols: cols, y: y, alignedRows: false)
        parallelChunks(rows, minChunk: max(1, elementwiseGrain / max(1, cols))) { range in
            guard streams else {
                for r in range { row(X.base + r * cols, Y.base + r * cols, cols) }
                return
            }
            let scratch = BufferPool.shared.take(cols)
            defer { BufferPool.shared.give(scratch.pointer, capacity: scratch.capacity) }
            for r in range {
                let next = r + 1 < range.upperBound ? UnsafePointer(X.base + (r + 1) * cols) : nil
                streamedRow(X.base + r * cols, Y.base + r * cols, cols, scratch: scratch.pointer, prefetching: next)
            }
            lian_store_fence()
        }
    }

    public static func backward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                rows: Int, cols: Int) {
        let Y = SendablePointer(y), DY = SendablePointer(dy), DX = SendablePointer(dx)
        parallelChunks(rows, minChunk: max(1, elementwiseGrain / max(1, cols))) { range in
            for r in range { rowBackward(Y.base + r * cols, DY.base + r * cols, DX.base + r * cols, cols) }
        }
    }

    public static func reference<F: ReferenceScalar>(_ x: [F], rows: Int, cols: Int) -> [F] {
        var y = [F](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let row = x[(r * cols)..<((r + 1) * cols)]
            let m = row.max() ?? 0
            let e = row.map { F.exp($0 - m) }
            let s = e.reduce(0, +)
            for (j, v) in e.enumerated() { y[r * cols + j] = v / s }
        }
        return y
    }
}
