// What a product does to a block of C once the block is final (its last k-block written), while
// the block is still in cache: the elementwise op that follows a linear layer, fused so that it
// does not read the whole of C back from memory in a pass of its own.
//
//   gelu:                  C ← GELU(C)                 (a GPT-2 MLP's c_fc output, not recording)
//   geluSavingDerivative:  C ← GELU(C),  D ← GELU′(C)   (the same, D saved for the backward)
//   multiply:              C ← C ⊙ D                    (the backward: dH = (dY·W_projᵀ) ⊙ GELU′(H))
//
// D is m × n with row stride `ld`, at the same (row, column) as C. Each row runs the separate
// elementwise kernel's own loop (Activations.swift, on this thread), so a fused product gives the
// same bits as the product followed by the pass.

public enum GEMMEpilogue: @unchecked Sendable {
    case none
    case gelu
    case geluSavingDerivative(into: UnsafeMutablePointer<Float>, ld: Int)
    case multiply(by: UnsafePointer<Float>, ld: Int)

    /// The same epilogue for the part of C that starts `rows` rows and `columns` columns in.
    @inline(__always)
    func offset(rows: Int, columns: Int) -> GEMMEpilogue {
        switch self {
        case .none, .gelu: return self
        case .geluSavingDerivative(let d, let ld): return .geluSavingDerivative(into: d + rows * ld + columns, ld: ld)
        case .multiply(let d, let ld): return .multiply(by: d + rows * ld + columns, ld: ld)
        }
    }

    /// How a profile names a product with this epilogue: " + GELU", " ⊙ derivative" or nothing.
    var profileSuffix: String {
        switch self {
        case .none: return ""
        case .gelu, .geluSavingDerivative: return " + GELU"
        case .multiply: return " ⊙ derivative"
        }
    }

    /// Applies the epilogue to rows i0..<i0+rows, columns j0..<j0+cols of C (row stride ldc).
    @inline(__always)
    func apply(c: UnsafeMutablePointer<Float>, ldc: Int, i0: Int, rows: Int, j0: Int, cols: Int) {
        switch self {
        case .none:
            return
        case .gelu:
            for i in i0..<(i0 + rows) {
                let row = c + i * ldc + j0
                mapUnaryOnThisThread(GELUForward.self, row, row, cols)
            }
        case .geluSavingDerivative(let d, let ld):
            for i in i0..<(i0 + rows) {
                let row = c + i * ldc + j0
                Activations.geluForwardOnThisThread(row, row, derivative: d + i * ld + j0, cols)
            }
        case .multiply(let d, let ld):
            // GELU's backward with the saved derivative (ScaleBySavedDerivative: dy · d).
            for i in i0..<(i0 + rows) {
                let row = c + i * ldc + j0
                mapGradientOnThisThread(ScaleBySavedDerivative.self, d + i * ld + j0, row, row, cols)
            }
        }
    }
}
