// What a product does to a block of C once the block is final (its last k-block written), while
// the block is still in cache: the elementwise op that follows a linear layer, fused so that it
// does not read the whole of C back from memory in a pass of its own.
//
//   gelu:                  C ← GELU(C)                 (a GPT-2 MLP's c_fc output, not recording)
//   geluSavingDerivative:  C ← GELU(C),  D ← GELU′(C)   (the same, D saved for the backward)
//   multiply:              C ← C ⊙ D                    (the backward: dH = (dY·W_projᵀ) ⊙ GELU′(H))
//
// D is m × n with row stride `ld`, at the same (row, column) as C. The values are those the
// separate elementwise kernels compute (the same functions on the same floats), so a fused
// product gives the same bits as the product followed by the pass.

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
                var j = 0
                while j + 16 <= cols { store16(GELUForward.apply(load16(row + j)), row + j); j += 16 }
                if j < cols { storePartial(GELUForward.apply(loadPartial(row + j, cols - j)), row + j, cols - j) }
            }
        case .geluSavingDerivative(let d, let ld):
            for i in i0..<(i0 + rows) {
                let row = c + i * ldc + j0, dRow = d + i * ld + j0
                var j = 0
                while j + 16 <= cols {
                    let (y, dy) = geluWithDerivative(load16(row + j))
                    store16(y, row + j); store16(dy, dRow + j); j += 16
                }
                if j < cols {
                    let (y, dy) = geluWithDerivative(loadPartial(row + j, cols - j))
                    storePartial(y, row + j, cols - j); storePartial(dy, dRow + j, cols - j)
                }
            }
        case .multiply(let d, let ld):
            for i in i0..<(i0 + rows) {
                let row = c + i * ldc + j0, dRow = d + i * ld + j0
                var j = 0
                while j + 16 <= cols { store16(load16(row + j) * load16(dRow + j), row + j); j += 16 }
                if j < cols { storePartial(loadPartial(row + j, cols - j) * loadPartial(dRow + j, cols - j), row + j, cols - j) }
            }
        }
    }
}
