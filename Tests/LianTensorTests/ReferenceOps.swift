import LianKernels

// Naive Double implementations of the shape and arithmetic ops, independent of Lian's code
// paths, for the op table to check the Tensor ops (forward, and backward by finite differences).

enum Ref {
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] }
        return s
    }

    static func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
        var index = [Int](repeating: 0, count: shape.count)
        var rest = flat
        for i in stride(from: shape.count - 1, through: 0, by: -1) { index[i] = rest % shape[i]; rest /= shape[i] }
        return index
    }

    /// out[i] = f(a[i'], b[i'']) with NumPy broadcasting.
    static func broadcast(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int], _ f: (Double, Double) -> Double) -> [Double] {
        let rank = max(sa.count, sb.count)
        let pa = [Int](repeating: 1, count: rank - sa.count) + sa
        let pb = [Int](repeating: 1, count: rank - sb.count) + sb
        let out = zip(pa, pb).map { max($0, $1) }
        let (stA, stB) = (strides(pa), strides(pb))
        return (0..<out.reduce(1, *)).map { flat in
            let idx = unravel(flat, out)
            var ia = 0, ib = 0
            for d in 0..<rank { ia += (pa[d] == 1 ? 0 : idx[d]) * stA[d]; ib += (pb[d] == 1 ? 0 : idx[d]) * stB[d] }
            return f(a[ia], b[ib])
        }
    }

    static func permute(_ x: [Double], _ shape: [Int], _ order: [Int]) -> [Double] {
        let out = order.map { shape[$0] }
        let st = strides(shape)
        return (0..<x.count).map { flat in
            let idx = unravel(flat, out)
            var src = 0
            for (d, o) in order.enumerated() { src += idx[d] * st[o] }
            return x[src]
        }
    }

    /// Reduce along `axis` with `f` (sum, max...).
    static func reduce(_ x: [Double], _ shape: [Int], axis: Int, _ f: ([Double]) -> Double) -> [Double] {
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var out: [Double] = []
        for i in 0..<outer { for j in 0..<inner { out.append(f((0..<n).map { x[(i * n + $0) * inner + j] })) } }
        return out
    }

    /// [batch, m, k] · [batch or 1, k, n]
    static func matmul(_ a: [Double], _ b: [Double], batch: Int, m: Int, k: Int, n: Int, sharedB: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: batch * m * n)
        for t in 0..<batch {
            let bo = sharedB ? 0 : t * k * n
            for i in 0..<m { for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += a[t * m * k + i * k + p] * b[bo + p * n + j] }
                out[t * m * n + i * n + j] = s
            } }
        }
        return out
    }

    static func slice(_ x: [Double], _ shape: [Int], axis: Int, _ range: Range<Int>) -> [Double] {
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var out: [Double] = []
        for i in 0..<outer { for k in range { out += x[((i * n + k) * inner)..<((i * n + k + 1) * inner)] } }
        return out
    }

    /// Per outer index: sizeA elements of a, then sizeB of b.
    static func concatenateMiddle(_ a: [Double], _ b: [Double], outer: Int, sizeA: Int, sizeB: Int) -> [Double] {
        var out: [Double] = []
        for i in 0..<outer {
            out += a[(i * sizeA)..<((i + 1) * sizeA)]
            out += b[(i * sizeB)..<((i + 1) * sizeB)]
        }
        return out
    }

    static func gatherRows(_ table: [Double], ids: [Int32], width: Int) -> [Double] {
        var out: [Double] = []
        for id in ids { out += table[(Int(id) * width)..<(Int(id) * width + width)] }
        return out
    }
}
