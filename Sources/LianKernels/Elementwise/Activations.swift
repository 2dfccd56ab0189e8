// GELU (tanh form, as GPT-2 uses it) and SiLU, forward and backward, fast and naive.
//
// GELU(x) = ½·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³).
// Since ½(1 + tanh u) = σ(2u), GELU(x) = x·σ(2u): one exp per element.
// d/dx = s + 2·x·s·(1 − s)·u′,  s = σ(2u),  u′ = √(2/π)·(1 + 3·0.044715·x²).
//
// SiLU(x) = x·σ(x);  d/dx = σ(x)·(1 + x·(1 − σ(x))).

@usableFromInline let geluScale: Float = 0.797_884_560_802_865_4   // √(2/π)
@usableFromInline let geluCubic: Float = 0.044715

/// Elements per thread below which an elementwise kernel stays on one thread.
@usableFromInline let elementwiseGrain = 1 << 16

/// Runs `body(start, count)` over `0..<n` in vector-aligned chunks, on several threads when large.
@inline(__always) @inlinable
func elementwiseChunks(_ n: Int, _ body: @Sendable (Int, Int) -> Void) {
    parallelChunks((n + 15) / 16, minChunk: elementwiseGrain / 16) { vectors in
        let start = vectors.lowerBound * 16
        let end = min(n, vectors.upperBound * 16)
        body(start, end - start)
    }
}

/// A function applied lane by lane. Kernels pass these as types, not closures, so that the
/// compiler specializes and inlines them inside the threaded loops (a closure called through
/// `parallelFor` stays an indirect call and its SIMD16 arguments go through memory: ~10× slower).
@usableFromInline protocol VectorMap: SendableMetatype {
    static func apply(_ x: SIMD16<Float>) -> SIMD16<Float>
}

/// A function of (x, dy), lane by lane: the shape of every elementwise backward kernel.
@usableFromInline protocol VectorGradientMap: SendableMetatype {
    static func apply(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float>
}

/// y = F(x) over n elements; the tail goes through a padded vector.
@inline(__always) @inlinable
func mapUnary<F: VectorMap>(_ f: F.Type, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let X = SendablePointer(x), Y = SendablePointer(y)
    elementwiseChunks(n) { start, count in mapUnaryOnThisThread(F.self, X.base + start, Y.base + start, count) }
}

/// `mapUnary`'s loop on the calling thread (also a GEMM epilogue's, on a finished block of C).
@inline(__always) @usableFromInline
func mapUnaryOnThisThread<F: VectorMap>(_ f: F.Type, _ xs: UnsafePointer<Float>, _ ys: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 16 <= count { store16(F.apply(load16(xs + i)), ys + i); i += 16 }
    if i < count { storePartial(F.apply(loadPartial(xs + i, count - i)), ys + i, count - i) }
}

/// dx = F(x, dy) over n elements.
@inline(__always) @inlinable
func mapGradient<F: VectorGradientMap>(_ f: F.Type, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                       _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
    let X = SendablePointer(x), DY = SendablePointer(dy), DX = SendablePointer(dx)
    elementwiseChunks(n) { start, count in
        mapGradientOnThisThread(F.self, X.base + start, DY.base + start, DX.base + start, count)
    }
}

/// `mapGradient`'s loop on the calling thread.
@inline(__always) @usableFromInline
func mapGradientOnThisThread<F: VectorGradientMap>(_ f: F.Type, _ xs: UnsafePointer<Float>, _ dys: UnsafePointer<Float>,
                                                   _ dxs: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i + 16 <= count { store16(F.apply(load16(xs + i), load16(dys + i)), dxs + i); i += 16 }
    if i < count {
        let r = count - i
        storePartial(F.apply(loadPartial(xs + i, r), loadPartial(dys + i, r)), dxs + i, r)
    }
}

/// GELU(v) and GELU′(v) from one exp and no division:
///   s = σ(2u) = 1 / (1 + e^(−2u)),  −2u = v·(−2√(2/π) − 2√(2/π)·0.044715·v²),
///   GELU = v·s,  GELU′ = s + 2·v·s·(1 − s)·u′ = s + GELU·(e^(−2u)·s)·2u′,
/// with 1/(1 + e) by the reciprocal estimate and a Newton step (simdReciprocal) and e^(−2u) from
/// the clamped exp, expOfClamped (below its clamp s is 1, as it is to a float; above it, v < −9.4, s stays
/// ~1e−38 where it would be smaller still: GELU ≈ −5e−37 instead of less). The constants
/// are folded so that each line is one multiply-add: ~33 vector instructions and no division,
/// 0.7× the time of the quotient form (two divisions, simdExp's fix-ups), which mattered in the
/// MLP's fused epilogue (GEMMEpilogue). `GELUForward` is the value half, the same bits.
/// `@_transparent` (here, in GELUForward and GELUBackward, and on the exp's body): with
/// `@inline(__always)` alone, an always-inline function that calls others was left as a call,
/// its vectors passed through memory, in the epilogue's loop and the softmax rows.
@_transparent @usableFromInline
func geluWithDerivative(_ v: SIMD16<Float>) -> (value: SIMD16<Float>, derivative: SIMD16<Float>) {
    let v2 = v * v
    let minusTwoU = v * SIMD16(repeating: -2 * geluScale).addingProduct(v2, SIMD16(repeating: -2 * geluScale * geluCubic))
    let e = expOfClamped(minusTwoU)
    let s = simdReciprocal(1 + e)
    let value = v * s
    let twoDu = SIMD16(repeating: 2 * geluScale).addingProduct(v2, SIMD16(repeating: 6 * geluScale * geluCubic))
    // 1 − s as e·s (= e / (1 + e)): 1 − s itself cancels to 0 once s rounds to 1 (v ≳ 4.5),
    // where GELU′ is still 1 + 2e-6.
    return (value, s.addingProduct(value * (e * s), twoDu))
}

@usableFromInline enum GELUForward: VectorMap {
    @_transparent @usableFromInline static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> {
        geluWithDerivative(v).value
    }
}

@usableFromInline enum GELUBackward: VectorGradientMap {
    @_transparent @usableFromInline static func apply(_ v: SIMD16<Float>, _ g: SIMD16<Float>) -> SIMD16<Float> {
        g * geluWithDerivative(v).derivative
    }
}

/// dx = dy · d for a saved derivative d (passed as the "x" of the map).
@usableFromInline enum ScaleBySavedDerivative: VectorGradientMap {
    @inline(__always) @usableFromInline static func apply(_ d: SIMD16<Float>, _ g: SIMD16<Float>) -> SIMD16<Float> {
        g * d
    }
}

@usableFromInline enum SiLUForward: VectorMap {
    @inline(__always) @usableFromInline static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> {
        v / (1 + simdExp(-v))
    }
}

@usableFromInline enum SiLUBackward: VectorGradientMap {
    @inline(__always) @usableFromInline static func apply(_ v: SIMD16<Float>, _ g: SIMD16<Float>) -> SIMD16<Float> {
        let s = 1 / (1 + simdExp(-v))
        return g * s * (1 + v * (1 - s))
    }
}

@usableFromInline enum ExpMap: VectorMap {
    @inline(__always) @usableFromInline static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { simdExp(v) }
}

@usableFromInline enum TanhMap: VectorMap {
    @inline(__always) @usableFromInline static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { simdTanh(v) }
}

public enum Activations {
    // MARK: GELU

    /// y = GELU(x), n elements.
    public static func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        mapUnary(GELUForward.self, x, y, n)
    }

    /// y = GELU(x) and d = GELU′(x), n elements: the backward is then dy · d, a multiply
    /// instead of a second exp per element. y is computed as `geluForward` computes it, d as
    /// `geluBackward` does (geluWithDerivative).
    public static func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                   derivative: UnsafeMutablePointer<Float>, _ n: Int) {
        let X = SendablePointer(x), Y = SendablePointer(y), D = SendablePointer(derivative)
        elementwiseChunks(n) { start, count in
            geluForwardOnThisThread(X.base + start, Y.base + start, derivative: D.base + start, count)
        }
    }

    /// `geluForward(_:_:derivative:_:)`'s loop on the calling thread (also a GEMM epilogue's).
    @inline(__always) @usableFromInline
    static func geluForwardOnThisThread(_ xs: UnsafePointer<Float>, _ ys: UnsafeMutablePointer<Float>,
                                        derivative ds: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count {
            let (y, d) = geluWithDerivative(load16(xs + i))
            store16(y, ys + i); store16(d, ds + i); i += 16
        }
        if i < count {
            let (y, d) = geluWithDerivative(loadPartial(xs + i, count - i))
            storePartial(y, ys + i, count - i); storePartial(d, ds + i, count - i)
        }
    }

    /// dx = dy · d for the derivative saved by `geluForward(_:_:derivative:_:)`.
    public static func geluBackward(savedDerivative d: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        mapGradient(ScaleBySavedDerivative.self, d, dy, dx, n)
    }

    /// dx = dy · GELU′(x), n elements.
    public static func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        mapGradient(GELUBackward.self, x, dy, dx, n)
    }

    public static func referenceGELU<F: ReferenceScalar>(_ x: [F]) -> [F] {
        let c = F(0.797_884_560_802_865_4)
        return x.map { v in F(0.5) * v * (1 + F.tanh(c * (v + F(0.044715) * v * v * v))) }
    }

    public static func referenceGELUBackward<F: ReferenceScalar>(_ x: [F], _ dy: [F]) -> [F] {
        let c = F(0.797_884_560_802_865_4)
        return zip(x, dy).map { v, g in
            let t = F.tanh(c * (v + F(0.044715) * v * v * v))
            let du = c * (1 + 3 * F(0.044715) * v * v)
            return g * (F(0.5) * (1 + t) + F(0.5) * v * (1 - t * t) * du)
        }
    }

    // MARK: SiLU

    /// y = x · σ(x), n elements.
    public static func siluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        mapUnary(SiLUForward.self, x, y, n)
    }

    /// dx = dy · σ(x)·(1 + x·(1 − σ(x))), n elements.
    public static func siluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        mapGradient(SiLUBackward.self, x, dy, dx, n)
    }

    public static func referenceSiLU<F: ReferenceScalar>(_ x: [F]) -> [F] {
        x.map { v in v / (1 + F.exp(-v)) }
    }

    // MARK: exp (for tests of the vector exp itself, and for tensor ops)

    /// y = e^x, n elements.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        mapUnary(ExpMap.self, x, y, n)
    }

    /// y = tanh x, n elements.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        mapUnary(TanhMap.self, x, y, n)
    }
}
