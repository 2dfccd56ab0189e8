import LianKernels

/// One layer's cached keys and values, and single-query attention over them.
///
/// T_max = capacity, G = key/value heads, H = query heads (a multiple of G: grouped-query
/// attention), D = head size. Keys and values are [T_max, G·D], heads side by side as the
/// projections lay them out.
struct LayerKVCache {
    let heads: Int, kvHeads: Int, headSize: Int
    private var keys: [Float]
    private var values: [Float]
    private(set) var length = 0

    init(capacity: Int, heads: Int, kvHeads: Int, headSize: Int) {
        self.heads = heads; self.kvHeads = kvHeads; self.headSize = headSize
        keys = [Float](repeating: 0, count: capacity * kvHeads * headSize)
        values = keys
    }

    /// Appends one position's key and value (each G·D values).
    mutating func append<K: Collection<Float>, V: Collection<Float>>(key: K, value: V) {
        let w = kvHeads * headSize
        keys.replaceSubrange((length * w)..<((length + 1) * w), with: key)
        values.replaceSubrange((length * w)..<((length + 1) * w), with: value)
        length += 1
    }

    /// Softmax(q·kᵀ/√D)·v of one query (H·D values) over every cached position, per head.
    func attend(query: [Float]) -> [Float] {
        let w = kvHeads * headSize, group = heads / kvHeads
        var out = [Float](repeating: 0, count: heads * headSize)
        let scale = 1 / Float(headSize).squareRoot()
        var scores = [Float](repeating: 0, count: length)
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                for h in 0..<heads {
                    let qo = h * headSize, ko = (h / group) * headSize
                    for j in 0..<length {
                        var dot: Float = 0
                        for d in 0..<headSize { dot += query[qo + d] * k[j * w + ko + d] }
                        scores[j] = dot * scale
                    }
                    scores.withUnsafeMutableBufferPointer { Softmax.row($0.baseAddress!, $0.baseAddress!, length) }
                    for j in 0..<length {
                        let p = scores[j]
                        for d in 0..<headSize { out[qo + d] += p * v[j * w + ko + d] }
                    }
                }
            }
        }
        return out
    }
}
