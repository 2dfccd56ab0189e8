// Vector transcendental functions on SIMD16<Float>, so that hot loops never call scalar libm.
//
// exp follows the Cephes scheme: split x = n·ln2 + r with |r| ≤ ln2/2, approximate e^r with a
// degree-6 polynomial (relative error ≈ 1e-7 over the range), and build 2^n from its bits. The
// integer n comes from the "magic number" trick (adding 1.5·2²³ leaves n in the low mantissa
// bits), because float→int conversion on SIMD types is lane by lane in the standard library.

import LianKernelsC

@usableFromInline let expUpper: Float = 88.72283    // above this e^x overflows Float
// The polynomial path is clamped a little lower so that n ≤ 127 and 2^n stays a normal Float;
// e^x for x in (88.0, 88.72] is therefore returned as e^88 (only ever reached by overflowing inputs).
@usableFromInline let expComputeUpper: Float = 88.0
@usableFromInline let expLower: Float = -87.33654   // below this e^x is subnormal; we return 0
@usableFromInline let roundingMagic: Float = 12_582_912   // 1.5 · 2^23

/// e^x for each lane. NaN stays NaN, above 88.7 gives +inf, below -87.3 gives 0.
@inline(__always) @inlinable
public func simdExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var result = expOfClamped(x)
    result = result.replacing(with: .infinity, where: x .> expUpper)
    result = result.replacing(with: 0, where: x .< expLower)
    return result.replacing(with: x, where: x .!= x)
}

/// e^x with x first clamped to [−87.3, 88]: e^−87.3 (≈ 1.2e−38, not 0) below, e^88 above, NaN
/// for NaN — simdExp without its three fix-ups, for callers whose result is the same either way
/// (GELU's 1 / (1 + e^−2u)). `@_transparent`, because with `@inline(__always)` the compiler left
/// it (or simdExp, when that called another always-inline function) as a call in softmax and
/// cross-entropy, a call a vector with its operands through memory.
@_transparent @usableFromInline
func expOfClamped(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var v = x.replacing(with: expComputeUpper, where: x .> expComputeUpper)
    v = v.replacing(with: expLower, where: v .< expLower)
    return expInRange(v)
}

/// e^x for lanes that are never above 0 — x − max in a softmax or a log-sum-exp — with simdExp's
/// results there: below −87.3 gives 0, NaN stays NaN (it runs through the arithmetic). simdExp
/// without the upper clamp and the two fix-ups such lanes never need: one compare and two
/// blends instead of four and five, ~15% of a softmax row's exp.
@_transparent
public func expOfNonPositive(_ x: SIMD16<Float>) -> SIMD16<Float> {
    // In C: the same two selects in Swift compiled lane by lane where this was not inlined.
    lian_zero_where_below16(expInRange(lian_at_least16(x, expLower)), x, expLower)
}

/// e^v for v in [−87.3, 88] (or NaN): the range reduction, the polynomial and the 2^n.
@_transparent @usableFromInline
func expInRange(_ v: SIMD16<Float>) -> SIMD16<Float> {
    // n = round(v / ln 2), kept as a float and as the bits of (n + magic).
    let t = v * 1.442_695_04 + roundingMagic
    let n = t - roundingMagic
    // r = v − n·ln2, with ln2 split in two parts so that n·ln2 is exact enough.
    var r = v.addingProduct(n, SIMD16<Float>(repeating: -0.693_359_375))
    r = r.addingProduct(n, SIMD16<Float>(repeating: 2.121_944_4e-4))
    // Horner's rule in fused multiply-adds (Swift does not contract p * r + c by itself).
    var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
    p = SIMD16(repeating: 1.398_199_950_7e-3).addingProduct(p, r)
    p = SIMD16(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
    p = SIMD16(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
    p = SIMD16(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
    p = SIMD16(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
    let er = (r + 1).addingProduct(p, r * r)
    // 2^n: put (n + 127) in the exponent field.
    let nBits = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD16<Float>.self)
    return er * scale
}

/// 1/x for each lane without a division: the hardware estimate (relative error ≤ 2^−14) and one
/// Newton step, s·(2 − x·s), which squares the error to ~2^−28, below a float's rounding (the
/// result is within an ulp of the quotient). A vector division costs ~10 cycles of a port the
/// multiply-adds need; this is three instructions. ±0 and ±inf give NaN (0·inf in the step).
@inline(__always) @inlinable
public func simdReciprocal(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let s = lian_reciprocal_estimate16(x)
    let e = SIMD16<Float>(repeating: 1).addingProduct(-x, s)
    return s.addingProduct(s, e)
}

/// The logistic sigmoid 1 / (1 + e^−x).
@inline(__always) @inlinable
public func simdSigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> {
    1 / (1 + simdExp(-x))
}

/// tanh x = 1 − 2 / (e^{2x} + 1): exact limits ±1, absolute error ≈ 1e-7 near 0.
@inline(__always) @inlinable
public func simdTanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
    1 - 2 / (simdExp(x + x) + 1)
}

/// Loads `count` (< 16) floats into the low lanes of a vector, zero in the rest.
@inline(__always) @inlinable
public func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, fill: Float = 0) -> SIMD16<Float> {
    var v = SIMD16<Float>(repeating: fill)
    for i in 0..<count { v[i] = p[i] }
    return v
}

/// Stores the low `count` lanes of a vector.
@inline(__always) @inlinable
public func storePartial(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

@inline(__always) @inlinable
public func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) @inlinable
public func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// The sum of the lanes, by a tree of vector additions (halves, then quarters...): four dependent
/// adds instead of the fifteen of the standard library's in-order `.sum()`, whose ~60-cycle chain
/// dominated short rows (a causal attention row, a LayerNorm row of 128).
@inline(__always) @inlinable
public func horizontalSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// The largest lane, by a tree of vector maxima (the standard library's `.max()` is lane by lane).
/// Two vector levels, then scalars; not inlined, because inlined LLVM merged the caller's last
/// vector maximum into the tree and spent ~80 mask-shuffling instructions on it (a causal
/// softmax row of one vector: 161 → 135 cycles).
@inline(never)
public func horizontalMax(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf, b = v.highHalf
    let c = a.replacing(with: b, where: a .< b)
    let d = c.lowHalf, e = c.highHalf
    let f = d.replacing(with: e, where: d .< e)
    return Swift.max(Swift.max(f[0], f[1]), Swift.max(f[2], f[3]))
}

/// The largest of `n` floats (−inf for none), in four independent vector maxima: one chain of
/// compare-and-blend costs ~5 cycles a vector, four chains keep both vector ports busy.
@inline(__always) @inlinable
public func maximumOfRow(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m0 = SIMD16<Float>(repeating: -.infinity), m1 = m0, m2 = m0, m3 = m0
    var i = 0
    while i + 64 <= n {
        m0 = simdMax(m0, load16(x + i)); m1 = simdMax(m1, load16(x + i + 16))
        m2 = simdMax(m2, load16(x + i + 32)); m3 = simdMax(m3, load16(x + i + 48))
        i += 64
    }
    while i + 16 <= n { m0 = simdMax(m0, load16(x + i)); i += 16 }
    if i < n { m1 = simdMax(m1, loadPartial(x + i, n - i, fill: -.infinity)) }
    return horizontalMax(simdMax(simdMax(m0, m1), simdMax(m2, m3)))
}

/// Lane-wise maximum as one vector compare-and-blend.
@inline(__always) @inlinable
public func simdMax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: a .< b)
}
