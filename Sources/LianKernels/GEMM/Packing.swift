// Packing copies a block of op(A) or op(B) into the order the micro-kernel reads, so that the
// inner loop walks memory contiguously whatever the transposition of the operands.
//
// m, n, k: the sizes of C = op(A)[m×k] · op(B)[k×n]; mc/nc/kc: the block being packed.

/// Packs op(A)[i0..<i0+mc, p0..<p0+kc] into MR-row panels (kc × MR each), scaled by `alpha`,
/// zero-padding the last panel to MR rows.
@inline(__always) @usableFromInline
func packA(transA: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, mc: Int, p0: Int, kc: Int,
           alpha: Float, mr: Int, into dst: UnsafeMutablePointer<Float>) {
    var ir = 0
    while ir < mc {
        let rows = min(mr, mc - ir)
        let panel = dst + ir * kc
        if transA {
            // op(A)[i, p] = A[p, i]: each k step reads `rows` consecutive floats.
            for p in 0..<kc {
                let src = a + (p0 + p) * lda + i0 + ir
                let out = panel + p * mr
                for r in 0..<rows { out[r] = alpha * src[r] }
                for r in rows..<mr { out[r] = 0 }
            }
        } else {
            // op(A)[i, p] = A[i, p]: each row is contiguous in k; write it with stride MR.
            for r in 0..<rows {
                let src = a + (i0 + ir + r) * lda + p0
                var out = panel + r
                for p in 0..<kc { out.pointee = alpha * src[p]; out += mr }
            }
            if rows < mr {
                for p in 0..<kc { for r in rows..<mr { panel[p * mr + r] = 0 } }
            }
        }
        ir += mr
    }
}

/// Packs op(B)[p0..<p0+kc, j0..<j0+nc] into NR-column panels (kc × NR each), zero-padding the
/// last panel to NR columns.
@inline(__always) @usableFromInline
func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, kc: Int, j0: Int, nc: Int,
           nr: Int, into dst: UnsafeMutablePointer<Float>) {
    var jr = 0
    while jr < nc {
        let cols = min(nr, nc - jr)
        let panel = dst + jr * kc
        if transB {
            // op(B)[p, j] = B[j, p]: each column of op(B) is a contiguous row of B.
            for j in 0..<cols {
                let src = b + (j0 + jr + j) * ldb + p0
                var out = panel + j
                for p in 0..<kc { out.pointee = src[p]; out += nr }
            }
            if cols < nr {
                for p in 0..<kc { for j in cols..<nr { panel[p * nr + j] = 0 } }
            }
        } else {
            // op(B)[p, j] = B[p, j]: rows are contiguous; copy whole vectors when the panel is full.
            for p in 0..<kc {
                let src = b + (p0 + p) * ldb + j0 + jr
                let out = panel + p * nr
                if cols == nr {
                    var j = 0
                    while j < nr { storeV16(loadV16(src + j), out + j); j += 16 }
                } else {
                    for j in 0..<cols { out[j] = src[j] }
                    for j in cols..<nr { out[j] = 0 }
                }
            }
        }
        jr += nr
    }
}
