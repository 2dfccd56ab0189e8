// LayerNorm and RMSNorm over the last axis, forward and backward.
//
// N = rows (B·T), C = channels. Per row:
//   LayerNorm: μ = mean x, r = 1/√(var x + ε), n = (x − μ)·r, y = n·γ + β
//   RMSNorm:   r = 1/√(mean x² + ε),           n = x·r,       y = n·γ
// Backward (as llm.c derives it), with g = dy·γ:
//   LayerNorm: dx = r·(g − mean g − n·mean(g·n)),  dγ = Σ dy·n,  dβ = Σ dy
//   RMSNorm:   dx = r·(g − n·mean(g·n)),            dγ = Σ dy·n
// The statistics are computed in two passes (mean first) for accuracy, and saved per row
// (mean, rstd) for the backward pass.

import LianKernelsC

public enum Normalization {
    /// LayerNorm forward. `beta` may be nil (no bias). Writes y [N, C], mean [N], rstd [N].
    /// A large output whose rows start on 64 bytes (see StreamingStores; `streaming` true or
    /// false forces the choice where the rows allow it) is written with streaming stores while
    /// the next row of x is prefetched, a line per vector: 43,690 × 768, two threads, in-process
    /// 12.6–13.1 → 7.6–8.4 ms. The same bits either way.
    public static func layerNormForward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int, eps: Float, streaming: Bool? = nil
    ) {
        let X = SendablePointer(x), G = SendablePointer(gamma), Bt = beta.map { SendablePointer($0) }
        let Y = SendablePointer(y), M = SendablePointer(mean), R = SendablePointer(rstd)
        let streams = StreamingStores.suits(streaming, rows: rows, cols: cols, y: y, alignedRows: true)
        parallelChunks(rows, minChunk: max(1, elementwiseGrain / max(1, cols))) { range in
            for r in range {
                let xr = X.base + r * cols, yr = Y.base + r * cols
                let mu = rowSum(xr, cols) / Float(cols)
                let variance = rowSquaredDeviation(xr, cols, mu) / Float(cols)
                let rs = 1 / (variance + eps).squareRoot()
                M.base[r] = mu; R.base[r] = rs
                let vmu = SIMD16<Float>(repeating: mu), vrs = SIMD16<Float>(repeating: rs)
                var j = 0
                if streams {
                    // Whole aligned vectors (cols % 16 == 0); the chunk's last row prefetches itself.
                    let next = r + 1 < range.upperBound ? xr + cols : xr
                    while j < cols {
                        lian_prefetch_for_read(next + j)
                        var out = (load16(xr + j) - vmu) * vrs * load16(G.base + j)
                        if let Bt { out += load16(Bt.base + j) }
                        lian_stream16(out, yr + j)
                        j += 16
                    }
                    continue
                }
                while j < cols {
                    let w = min(16, cols - j)
                    let xv = w == 16 ? load16(xr + j) : loadPartial(xr + j, w)
                    let gv = w == 16 ? load16(G.base + j) : loadPartial(G.base + j, w)
                    var out = (xv - vmu) * vrs * gv
                    if let Bt { out += w == 16 ? load16(Bt.base + j) : loadPartial(Bt.base + j, w) }
                    if w == 16 { store16(out, yr + j) } else { storePartial(out, yr + j, w) }
                    j += 16
                }
            }
            if streams { lian_store_fence() }
        }
    }

    /// LayerNorm backward. Writes dx [N, C], dgamma [C] and (if given) dbeta [C]. A large dx is
    /// streamed as layerNormForward's y is (the next rows of x and dy prefetched): 43,690 × 768,
    /// two threads, in-process 16.4–23.2 → 13.2–18.8 ms (11 of 12 pairs faster). Same bits.
    public static func layerNormBackward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>?, rows: Int, cols: Int, streaming: Bool? = nil
    ) {
        normBackward(x, gamma: gamma, mean: mean, rstd: rstd, dy, dx, dgamma: dgamma, dbeta: dbeta,
                     rows: rows, cols: cols, centered: true, streaming: streaming)
    }

    /// RMSNorm forward. Writes y [N, C] and rstd [N].
    public static func rmsNormForward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float
    ) {
        let X = SendablePointer(x), G = SendablePointer(gamma), Y = SendablePointer(y), R = SendablePointer(rstd)
        parallelChunks(rows, minChunk: max(1, elementwiseGrain / max(1, cols))) { range in
            for r in range {
                let xr = X.base + r * cols, yr = Y.base + r * cols
                let rs = 1 / (rowSquaredDeviation(xr, cols, 0) / Float(cols) + eps).squareRoot()
                R.base[r] = rs
                let vrs = SIMD16<Float>(repeating: rs)
                var j = 0
                while j < cols {
                    let w = min(16, cols - j)
                    if w == 16 {
                        store16(load16(xr + j) * vrs * load16(G.base + j), yr + j)
                    } else {
                        storePartial(loadPartial(xr + j, w) * vrs * loadPartial(G.base + j, w), yr + j, w)
                    }
                    j += 16
                }
            }
        }
    }

    /// RMSNorm backward. Writes dx [N, C] and dgamma [C].
    public static func rmsNormBackward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int
    ) {
        normBackward(x, gamma: gamma, mean: nil, rstd: rstd, dy, dx, dgamma: dgamma, dbeta: nil,
                     rows: rows, cols: cols, centered: false)
    }

    /// The shared backward: `centered` is LayerNorm (subtract the mean), else RMSNorm.
    /// Rows are split over threads; each thread sums its own dγ/dβ, added up at the end.
    static func normBackward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>?, rstd: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>?, rows: Int, cols: Int, centered: Bool,
        streaming: Bool? = nil
    ) {
        let streams = StreamingStores.suits(streaming, rows: rows, cols: cols, y: dx, alignedRows: true)
        let chunks = max(1, min(Parallelism.threadCount, rows * cols / elementwiseGrain))
        // Per chunk: dγ partial [C], dβ partial [C].
        let partial = allocateFloats(chunks * 2 * cols)
        partial.update(repeating: 0, count: chunks * 2 * cols)
        defer { deallocateFloats(partial) }
        let X = SendablePointer(x), G = SendablePointer(gamma), R = SendablePointer(rstd)
        let Mu = mean.map { SendablePointer($0) }
        let DY = SendablePointer(dy), DX = SendablePointer(dx), P = SendablePointer(partial)
        parallelFor(chunks) { c in
            let dg = P.base + c * 2 * cols, db = dg + cols
            let chunkRows = (rows * c / chunks)..<(rows * (c + 1) / chunks)
            for r in chunkRows {
                let xr = X.base + r * cols, dyr = DY.base + r * cols, dxr = DX.base + r * cols
                let vmu = SIMD16<Float>(repeating: Mu.map { $0.base[r] } ?? 0)
                let vrs = SIMD16<Float>(repeating: R.base[r])
                // Pass 1: mean(g) and mean(g·n).
                var sumG = SIMD16<Float>(), sumGN = SIMD16<Float>()
                var j = 0
                while j < cols {
                    let w = min(16, cols - j)
                    let xv = w == 16 ? load16(xr + j) : loadPartial(xr + j, w)
                    let dyv = w == 16 ? load16(dyr + j) : loadPartial(dyr + j, w)
                    let gv = w == 16 ? load16(G.base + j) : loadPartial(G.base + j, w)
                    let n = (xv - vmu) * vrs
                    let g = dyv * gv
                    sumG += g
                    sumGN = sumGN.addingProduct(g, n)
                    // dγ += dy·n, dβ += dy
                    let dgv = (w == 16 ? load16(dg + j) : loadPartial(dg + j, w)).addingProduct(dyv, n)
                    let dbv = (w == 16 ? load16(db + j) : loadPartial(db + j, w)) + dyv
                    if w == 16 { store16(dgv, dg + j); store16(dbv, db + j) } else { storePartial(dgv, dg + j, w); storePartial(dbv, db + j, w) }
                    j += 16
                }
                let meanG = SIMD16<Float>(repeating: centered ? horizontalSum(sumG) / Float(cols) : 0)
                let meanGN = SIMD16<Float>(repeating: horizontalSum(sumGN) / Float(cols))
                // Pass 2: dx = r·(g − mean g − n·mean(g·n)).
                j = 0
                if streams {
                    // As in layerNormForward: whole aligned vectors, the next row of x and dy prefetched.
                    let last = r + 1 == chunkRows.upperBound
                    let nextX = last ? xr : xr + cols, nextDY = last ? dyr : dyr + cols
                    while j < cols {
                        lian_prefetch_for_read(nextX + j); lian_prefetch_for_read(nextDY + j)
                        let n = (load16(xr + j) - vmu) * vrs
                        lian_stream16(vrs * (load16(dyr + j) * load16(G.base + j) - meanG - n * meanGN), dxr + j)
                        j += 16
                    }
                    continue
                }
                while j < cols {
                    let w = min(16, cols - j)
                    let xv = w == 16 ? load16(xr + j) : loadPartial(xr + j, w)
                    let dyv = w == 16 ? load16(dyr + j) : loadPartial(dyr + j, w)
                    let gv = w == 16 ? load16(G.base + j) : loadPartial(G.base + j, w)
                    let n = (xv - vmu) * vrs
                    let out = vrs * (dyv * gv - meanG - n * meanGN)
                    if w == 16 { store16(out, dxr + j) } else { storePartial(out, dxr + j, w) }
                    j += 16
                }
            }
            if streams { lian_store_fence() }
        }
        for j in 0..<cols {
            var g: Float = 0, b: Float = 0
            for c in 0..<chunks { g += partial[c * 2 * cols + j]; b += partial[c * 2 * cols + cols + j] }
            dgamma[j] = g
            dbeta?[j] = b
        }
    }

    @inline(__always) @usableFromInline
    static func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { s += load16(x + i); i += 16 }
        if i < n { s += loadPartial(x + i, n - i) }
        return horizontalSum(s)
    }

    /// Σ (x − mu)² over a row.
    @inline(__always) @usableFromInline
    static func rowSquaredDeviation(_ x: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
        let m = SIMD16<Float>(repeating: mu)
        var s = SIMD16<Float>()
        var i = 0
        while i + 16 <= n { let d = load16(x + i) - m; s = s.addingProduct(d, d); i += 16 }
        if i < n {
            let w = n - i
            var d = loadPartial(x + i, w) - m
            for lane in w..<16 { d[lane] = 0 }
            s = s.addingProduct(d, d)
        }
        return horizontalSum(s)
    }

    // MARK: references

    public static func referenceLayerNorm<F: ReferenceScalar>(_ x: [F], gamma: [F], beta: [F]?, rows: Int, cols: Int, eps: F) -> [F] {
        var y = [F](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let row = Array(x[(r * cols)..<((r + 1) * cols)])
            let mu = row.reduce(0, +) / F(cols)
            let variance = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / F(cols)
            let rs = 1 / (variance + eps).squareRoot()
            for j in 0..<cols { y[r * cols + j] = (row[j] - mu) * rs * gamma[j] + (beta?[j] ?? 0) }
        }
        return y
    }

    public static func referenceRMSNorm<F: ReferenceScalar>(_ x: [F], gamma: [F], rows: Int, cols: Int, eps: F) -> [F] {
        var y = [F](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let row = Array(x[(r * cols)..<((r + 1) * cols)])
            let ms = row.map { $0 * $0 }.reduce(0, +) / F(cols)
            let rs = 1 / (ms + eps).squareRoot()
            for j in 0..<cols { y[r * cols + j] = row[j] * rs * gamma[j] }
        }
        return y
    }
}
