// Embedding lookup (a row gather) and its backward (a row scatter-add).
//
// N = ids, V = rows of the table, C = width.  out[n] = table[id_n];  dTable[id_n] += dOut[n].

public enum Embedding {
    public static func forward(table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
                               count: Int, vocab: Int, width: Int) {
        for n in 0..<count {
            let id = Int(ids[n])
            precondition(id >= 0 && id < vocab, "[embedding] id \(id) at position \(n) is outside 0..<\(vocab)")
            (out + n * width).update(from: table + id * width, count: width)
        }
    }

    /// Adds each row of dOut into dTable at its id. The table gradient is split by columns across
    /// threads, so repeated ids never race.
    public static func backward(ids: UnsafePointer<Int32>, dOut: UnsafePointer<Float>, dTable: UnsafeMutablePointer<Float>,
                                count: Int, width: Int) {
        let I = SendablePointer(ids), DO = SendablePointer(dOut), DT = SendablePointer(dTable)
        let columnBlocks = (width + 15) / 16
        parallelChunks(columnBlocks, minChunk: max(1, columnBlocks / 2)) { blocks in
            let start = blocks.lowerBound * 16, end = min(width, blocks.upperBound * 16)
            for n in 0..<count {
                let dst = DT.base + Int(I.base[n]) * width, src = DO.base + n * width
                for j in start..<end { dst[j] += src[j] }
            }
        }
    }
}
