// 4-bit NormalFloat (NF4) quantization as QLoRA defines it and bitsandbytes stores it.
//
// A weight matrix is read in storage order and cut into blocks of 64 values. Each block keeps its
// absolute maximum (absmax) and, per value, the index (0–15) of the NF4 level nearest to
// value/absmax; two indices share a byte, the first in the high nibble. Dequantized:
//     w ≈ NF4[code] · absmax_block
// Double quantization stores the absmax values themselves in 8 bits: their mean is subtracted
// (offset), then blocks of 256 are quantized with bitsandbytes' signed dynamic map:
//     absmax_block ≈ DYN[q] · absmax2_group + offset
// (≈ 0.127 bits per weight for the scales instead of 0.5). Rounding follows bitsandbytes' CPU
// kernels, so codes and bytes equal theirs: for NF4, scaled = clamp(x · (1/absmax), −1, 1) and the
// nearest level by |scaled − level| (ties to the lower index); for the 8-bit absmax codes, the
// scaled value is first placed on a grid of 2¹⁶ equal bins over [−1, 1] and the bin's centre is
// rounded to the nearest level (measured against bitsandbytes 0.50: identical on the oracle, and
// on 99.97% of 500,000 random values — the rest, one step apart, sit in bins a level midpoint
// crosses).

/// The 16 NF4 levels: quantiles of N(0, 1) scaled to [−1, 1], with an exact zero.
public enum NF4 {
    public static let levels: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// bitsandbytes' signed 8-bit dynamic map (7 exponent bits): for exponent e = 0…6, 2^e
    /// fractions (midpoints of an even grid on [0.1, 1]) times 10^(e−6), both signs; plus 0 and
    /// 1; sorted. Float32 arithmetic, as torch computes it.
    public static let dynamicMap: [Float] = {
        var data: [Float] = []
        for e in 0..<7 {
            let items = (1 << e) + 1
            let boundaries = linspace(0.1, 1, items)
            let scale = Float(pow10(e - 6))
            for i in 0..<(items - 1) {
                let mean = (boundaries[i] + boundaries[i + 1]) / 2
                data.append(scale * mean)
                data.append(-scale * mean)
            }
        }
        data.append(0); data.append(1)
        return data.sorted()
    }()

    /// torch.linspace in float32: the first half counts up from the start, the second half down
    /// from the end, each value one fused multiply-add (one rounding), as torch's CPU kernel does.
    static func linspace(_ start: Float, _ end: Float, _ steps: Int) -> [Float] {
        guard steps > 1 else { return [start] }
        let step = (end - start) / Float(steps - 1)
        let half = steps / 2
        return (0..<steps).map { i in
            i < half ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(steps - i - 1))
        }
    }

    static func pow10(_ e: Int) -> Double {
        var v = 1.0
        for _ in 0..<abs(e) { v *= 10 }
        return e < 0 ? 1 / v : v
    }

    /// The index of the level nearest to `x` in the sorted `levels` (ties to the lower index),
    /// comparing |x − level| in Float32 as bitsandbytes' argmin does.
    @inline(__always)
    static func nearest(_ x: Float, in levels: UnsafeBufferPointer<Float>) -> Int {
        var lo = 0, hi = levels.count - 1            // binary search for the neighbours of x
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if levels[mid] <= x { lo = mid } else { hi = mid }
        }
        var best = lo
        var bestDistance = abs(x - levels[lo])
        // Equal levels are impossible; check the neighbours on both sides for exact float ties.
        for j in [lo - 1, hi] where j >= 0 && j < levels.count {
            let d = abs(x - levels[j])
            if d < bestDistance || (d == bestDistance && j < best) { best = j; bestDistance = d }
        }
        return best
    }

    /// The centre of the 2¹⁶-bin grid cell holding `x` ∈ [−1, 1] (exact in Float32).
    @inline(__always)
    static func gridCentre(_ x: Float) -> Float {
        let k = min(65535, max(0, Int(((x + 1) * 32768).rounded(.down))))
        return Float((Double(k) + 0.5) / 32768 - 1)
    }

    /// Blockwise absmax quantization of `values` against `levels`: codes and per-block absmax.
    /// `onGrid` rounds the grid cell's centre instead of the value (bitsandbytes' 8-bit path).
    static func quantizeBlocks(_ values: UnsafeBufferPointer<Float>, levels: [Float], blockSize: Int,
                               onGrid: Bool = false) -> (codes: [UInt8], absmax: [Float]) {
        let n = values.count
        let blocks = (n + blockSize - 1) / blockSize
        var codes = [UInt8](repeating: 0, count: n)
        var absmax = [Float](repeating: 0, count: blocks)
        let zero = UInt8(levels.firstIndex(of: 0) ?? 0)
        levels.withUnsafeBufferPointer { lv in
            for b in 0..<blocks {
                let start = b * blockSize, end = min(start + blockSize, n)
                var m: Float = 0
                for i in start..<end { m = max(m, abs(values[i])) }
                absmax[b] = m
                guard m > 0 else { for i in start..<end { codes[i] = zero }; continue }
                let inverse = 1 / m
                for i in start..<end {
                    let scaled = min(1, max(-1, values[i] * inverse))
                    codes[i] = UInt8(nearest(onGrid ? gridCentre(scaled) : scaled, in: lv))
                }
            }
        }
        return (codes, absmax)
    }
}

/// A matrix stored in NF4 (see the top of this file). Row-major [rows, columns] in storage order.
public struct NF4Matrix: Sendable {
    public enum Scales: Sendable {
        /// One Float32 absmax per block.
        case plain([Float])
        /// Double quantization: 8-bit codes of (absmax − offset), one Float32 scale per group
        /// of `groupSize` blocks, the offset, and the dynamic map.
        case double(codes: [UInt8], groupScales: [Float], offset: Float, groupSize: Int)
    }

    public let rows: Int, columns: Int
    public let blockSize: Int
    /// Two codes per byte, the first in the high nibble.
    public let packed: [UInt8]
    public let scales: Scales

    public var count: Int { rows * columns }
    public var blockCount: Int { (count + blockSize - 1) / blockSize }

    public init(rows: Int, columns: Int, blockSize: Int, packed: [UInt8], scales: Scales) {
        self.rows = rows; self.columns = columns; self.blockSize = blockSize; self.packed = packed; self.scales = scales
    }

    public init(quantizing values: UnsafeBufferPointer<Float>, rows: Int, columns: Int, blockSize: Int = 64,
                doubleQuantization: Bool = true, groupSize: Int = 256) {
        precondition(values.count == rows * columns, "[nf4] \(values.count) values for a \(rows)×\(columns) matrix")
        self.rows = rows; self.columns = columns; self.blockSize = blockSize
        let (codes, absmax) = NF4.quantizeBlocks(values, levels: NF4.levels, blockSize: blockSize)
        var bytes = [UInt8](repeating: 0, count: (codes.count + 1) / 2)
        for i in stride(from: 0, to: codes.count, by: 2) {
            bytes[i / 2] = codes[i] << 4 | (i + 1 < codes.count ? codes[i + 1] : 0)
        }
        packed = bytes
        guard doubleQuantization else { scales = .plain(absmax); return }
        // The mean in Double, rounded once: torch's float32 mean is the correctly rounded mean
        // for these sizes up to its own summation order.
        let offset = Float(absmax.reduce(0.0) { $0 + Double($1) } / Double(absmax.count))
        let centered = absmax.map { $0 - offset }
        let (q, groupScales) = centered.withUnsafeBufferPointer { NF4.quantizeBlocks($0, levels: NF4.dynamicMap, blockSize: groupSize, onGrid: true) }
        scales = .double(codes: q, groupScales: groupScales, offset: offset, groupSize: groupSize)
    }

    /// The absmax of every block (dequantized from 8 bits under double quantization).
    public var absmax: [Float] {
        switch scales {
        case .plain(let a): return a
        case let .double(codes, groupScales, offset, groupSize):
            return codes.indices.map { NF4.dynamicMap[Int(codes[$0])] * groupScales[$0 / groupSize] + offset }
        }
    }

    /// The 4-bit code of element `i`.
    @inline(__always) public func code(_ i: Int) -> UInt8 {
        let byte = packed[i / 2]
        return i % 2 == 0 ? byte >> 4 : byte & 0x0F
    }

    /// Rows `rowRange` dequantized into `out` (row-major, `rowRange.count × columns` values).
    /// `absmax` is `self.absmax`, passed in so that callers dequantizing many tiles compute it once.
    public func dequantize(rows rowRange: Range<Int>, absmax: [Float], into out: UnsafeMutablePointer<Float>) {
        let start = rowRange.lowerBound * columns, end = rowRange.upperBound * columns
        packed.withUnsafeBufferPointer { bytes in
            NF4.levels.withUnsafeBufferPointer { levels in
                var i = start
                while i < end {
                    let blockEnd = min(end, (i / blockSize + 1) * blockSize)
                    let scale = absmax[i / blockSize]
                    while i < blockEnd {
                        let byte = bytes[i >> 1]
                        let c = (i & 1) == 0 ? byte >> 4 : byte & 0x0F
                        out[i - start] = levels[Int(c)] * scale
                        i += 1
                    }
                }
            }
        }
    }

    /// The whole matrix as Float32 (for merging and tests; the training path dequantizes tiles).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: count)
        let a = absmax
        out.withUnsafeMutableBufferPointer { dequantize(rows: 0..<rows, absmax: a, into: $0.baseAddress!) }
        return out
    }

    /// Bytes held: the packed codes plus the scales (the 256-entry dynamic map is one shared
    /// constant, not counted per matrix).
    public var storageBytes: Int {
        switch scales {
        case .plain(let a): return packed.count + 4 * a.count
        case let .double(codes, groupScales, _, _): return packed.count + codes.count + 4 * groupScales.count + 4
        }
    }
}
