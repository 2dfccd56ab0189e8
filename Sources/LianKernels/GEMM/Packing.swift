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
                if rows == 8 && mr == 8 {
                    let v = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self) * alpha
                    UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD8<Float>.self)
                } else {
                    for r in 0..<rows { out[r] = alpha * src[r] }
                    for r in rows..<mr { out[r] = 0 }
                }
            }
        } else if rows == 8 && mr == 8 {
            // op(A)[i, p] = A[i, p]: gather one k step from 8 rows into one vector store.
            let s0 = a + (i0 + ir) * lda + p0
            let s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda, s6 = s5 + lda, s7 = s6 + lda
            for p in 0..<kc {
                let v = SIMD8<Float>(s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]) * alpha
                UnsafeMutableRawPointer(panel + p * 8).storeBytes(of: v, as: SIMD8<Float>.self)
            }
        } else {
            // The general case (6-row panels, edge panels): each row is contiguous in k; write it
            // with stride MR.
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
    if !transB {
        // op(B)[p, j] = B[p, j]: rows are contiguous. Walk B a row at a time, dealing each row's
        // NR-wide pieces out to the panels: a wide B's rows are pages apart, and a panel at a
        // time would touch kc pages per panel (a TLB miss per copy).
        let fullPanels = nc / nr
        for p in 0..<kc {
            let src = b + (p0 + p) * ldb + j0
            for q in 0..<fullPanels {
                let from = src + q * nr, to = dst + q * nr * kc + p * nr
                var j = 0
                while j < nr { storeV16(loadV16(from + j), to + j); j += 16 }
            }
        }
        if nc % nr != 0 {
            let jr = fullPanels * nr, cols = nc - jr
            let panel = dst + jr * kc
            for p in 0..<kc {
                let src = b + (p0 + p) * ldb + j0 + jr
                for j in 0..<cols { panel[p * nr + j] = src[j] }
                for j in cols..<nr { panel[p * nr + j] = 0 }
            }
        }
        return
    }
    var jr = 0
    while jr < nc {
        let cols = min(nr, nc - jr)
        let panel = dst + jr * kc
        if transB && cols == nr && nr % 16 == 0 {
            // op(B)[p, j] = B[j, p]: gather one k step from 16 rows of B per vector store, so
            // that the reads walk 16 rows sequentially and the writes are whole vectors.
            var j = 0
            while j < nr {
                let s0 = b + (j0 + jr + j) * ldb + p0
                let s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb, s4 = s3 + ldb, s5 = s4 + ldb, s6 = s5 + ldb
                let s7 = s6 + ldb, s8 = s7 + ldb, s9 = s8 + ldb, s10 = s9 + ldb, s11 = s10 + ldb, s12 = s11 + ldb
                let s13 = s12 + ldb, s14 = s13 + ldb, s15 = s14 + ldb
                for p in 0..<kc {
                    let v = SIMD16<Float>(s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p],
                                          s8[p], s9[p], s10[p], s11[p], s12[p], s13[p], s14[p], s15[p])
                    storeV16(v, panel + p * nr + j)
                }
                j += 16
            }
        } else {
            // op(B)[p, j] = B[j, p]: each column of op(B) is a contiguous row of B.
            for j in 0..<cols {
                let src = b + (j0 + jr + j) * ldb + p0
                var out = panel + j
                for p in 0..<kc { out.pointee = src[p]; out += nr }
            }
            if cols < nr {
                for p in 0..<kc { for j in cols..<nr { panel[p * nr + j] = 0 } }
            }
        }
        jr += nr
    }
}
