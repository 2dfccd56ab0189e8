/// Byte-level BPE: a vocabulary of byte strings and the ranked merges that build them.
///
/// Encoding a chunk starts from its single bytes and repeatedly merges the adjacent pair with the
/// lowest merge rank (the leftmost when a pair occurs twice), as GPT-2's and Hugging Face's BPE do;
/// with `ignoreMerges` a chunk that is itself in the vocabulary becomes that one token directly
/// (tiktoken's behaviour, and transformers' for GPT-2/cl100k files).
public struct BPEModel: Sendable {
    /// Token id → its bytes.
    public let tokenBytes: [[UInt8]]
    /// Bytes → token id.
    public let ids: [[UInt8]: Int32]
    /// (left id, right id) → (rank, merged id): open addressing on a 64-bit key with a
    /// multiplicative hash (the standard library's seeded SipHash took a third of encoding time).
    let mergeTable: MergeTable
    /// The merges in rank order, as (left id, right id).
    public let mergeList: [(Int32, Int32)]
    /// Single byte → token id.
    let byteIDs: [Int32]
    public let ignoreMerges: Bool

    /// Builds the model from token byte strings (index = id; nil for ids that are not BPE tokens,
    /// such as special tokens) and merges as pairs of ids in rank order.
    init(tokenBytes: [[UInt8]], merges: [(Int32, Int32)], ignoreMerges: Bool, path: String) throws {
        self.tokenBytes = tokenBytes
        var ids: [[UInt8]: Int32] = [:]
        for (id, bytes) in tokenBytes.enumerated() where !bytes.isEmpty { ids[bytes] = Int32(id) }
        self.ids = ids
        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            guard let id = ids[[UInt8(b)]] else {
                throw TokenizerError(path: path, "the vocabulary has no token for the single byte \(b) (\(ByteLevel.characters[b])); a byte-level BPE vocabulary needs all 256")
            }
            byteIDs[b] = id
        }
        self.byteIDs = byteIDs
        // A pair listed twice keeps its first (lowest) rank.
        var table: [UInt64: (rank: Int32, merged: Int32)] = [:]
        for (rank, (l, r)) in merges.enumerated() {
            guard let merged = ids[tokenBytes[Int(l)] + tokenBytes[Int(r)]] else {
                throw TokenizerError(path: path, "merge \(rank) joins two tokens whose concatenation is not in the vocabulary")
            }
            let key = MergeTable.key(l, r)
            if table[key] == nil { table[key] = (Int32(rank), merged) }
        }
        self.mergeTable = MergeTable(table.map { ($0.key, $0.value) })
        self.mergeList = merges
        self.ignoreMerges = ignoreMerges
    }

    /// The token ids of one chunk of bytes.
    ///
    /// Keeps the rank of every adjacent pair in an array; each step merges the leftmost pair of
    /// lowest rank and looks up only the two pairs the merge creates, so a chunk of n bytes costs
    /// O(n) table lookups plus O(n) per merge in cheap integer scans.
    public func encode(_ bytes: [UInt8]) -> [Int32] {
        if bytes.isEmpty { return [] }
        if ignoreMerges, let id = ids[bytes] { return [id] }
        let symbols = bytes.map { byteIDs[Int($0)] }
        if symbols.count == 1 { return symbols }
        return symbols.count <= 12 ? mergeByScanning(symbols) : mergeWithHeap(symbols)
    }

    /// Short chunks: repeatedly merge the lowest-ranked adjacent pair (leftmost on ties),
    /// finding it by a scan — cheapest for a handful of symbols. Works in scratch memory on the
    /// stack: Swift arrays cost a uniqueness check per write and a shift per removal.
    func mergeByScanning(_ start: [Int32]) -> [Int32] {
        let n = start.count
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * n) { scratch in
            // symbols[0..<count]; ranks[i], results[i]: the pair (symbols[i], symbols[i+1]).
            let symbols = scratch.baseAddress!, ranks = symbols + n, results = ranks + n
            var count = n
            for i in 0..<n { symbols[i] = start[i] }
            @inline(__always) func look(_ i: Int) {
                if let m = mergeTable.find(symbols[i], symbols[i + 1]) { ranks[i] = m.rank; results[i] = m.merged } else { ranks[i] = .max }
            }
            for i in 0..<(n - 1) { look(i) }
            while count > 1 {
                var best = 0
                for i in 1..<(count - 1) where ranks[i] < ranks[best] { best = i }
                if ranks[best] == .max { break }
                symbols[best] = results[best]
                // Remove symbol best+1 and pair best+1's slot (pair best now joins best and best+2).
                let tail = count - best - 2
                if tail > 0 {   // symbols after best+1 move down one; so do the pairs after best+1
                    (symbols + best + 1).update(from: symbols + best + 2, count: tail)
                    (ranks + best + 1).update(from: ranks + best + 2, count: tail - 1)
                    (results + best + 1).update(from: results + best + 2, count: tail - 1)
                }
                count -= 1
                if best > 0 { look(best - 1) }
                if best < count - 1 { look(best) }
            }
            return Array(UnsafeBufferPointer(start: symbols, count: count))
        }
    }

    /// Long chunks (a run of Han characters is 3 bytes each): the same merges in the same order,
    /// from a min-heap of (rank, position) over a linked list of symbols — O(n log n) instead of
    /// a scan and an array shift per merge. A popped pair is used only if it is still there
    /// (both symbols alive, adjacent, and still merging at that rank); otherwise it is stale.
    /// Scratch memory on the stack, as above; at most n − 1 pairs are pushed at the start and
    /// two per merge, so the heap never holds more than 3n.
    func mergeWithHeap(_ start: [Int32]) -> [Int32] {
        let n = start.count
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: n) { symbolBuffer in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * n) { linkBuffer in
                withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 3 * n) { heapBuffer in
                    let symbols = symbolBuffer.baseAddress!
                    let next = linkBuffer.baseAddress!, previous = next + n   // next: n at the end; previous: -1 at the start, -2 dead
                    let heap = heapBuffer.baseAddress!
                    var heapCount = 0
                    for i in 0..<n { symbols[i] = start[i]; next[i] = i + 1; previous[i] = i - 1 }
                    // (rank, position) packed so that integer order is rank order, then leftmost.
                    @inline(__always) func push(_ rank: Int32, _ position: Int) {
                        var c = heapCount
                        heap[c] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(position)
                        heapCount += 1
                        while c > 0 {
                            let p = (c - 1) / 2
                            if heap[p] <= heap[c] { break }
                            let t = heap[p]; heap[p] = heap[c]; heap[c] = t
                            c = p
                        }
                    }
                    @inline(__always) func pop() -> UInt64 {
                        let top = heap[0]
                        heapCount -= 1
                        if heapCount > 0 {
                            heap[0] = heap[heapCount]
                            var p = 0
                            while true {
                                let l = 2 * p + 1, r = l + 1
                                var m = p
                                if l < heapCount && heap[l] < heap[m] { m = l }
                                if r < heapCount && heap[r] < heap[m] { m = r }
                                if m == p { break }
                                let t = heap[p]; heap[p] = heap[m]; heap[m] = t
                                p = m
                            }
                        }
                        return top
                    }
                    for i in 0..<(n - 1) {
                        if let m = mergeTable.find(symbols[i], symbols[i + 1]) { push(m.rank, i) }
                    }
                    while heapCount > 0 {
                        let top = pop()
                        let rank = Int32(bitPattern: UInt32(top >> 32)), i = Int(top & 0xFFFF_FFFF)
                        let j = next[i]
                        guard previous[i] != -2, j < n, let m = mergeTable.find(symbols[i], symbols[j]), m.rank == rank else { continue }
                        symbols[i] = m.merged
                        // Unlink j.
                        let k = next[j]
                        next[i] = k
                        if k < n { previous[k] = i }
                        previous[j] = -2
                        if previous[i] >= 0, let left = mergeTable.find(symbols[previous[i]], symbols[i]) { push(left.rank, previous[i]) }
                        if k < n, let right = mergeTable.find(symbols[i], symbols[k]) { push(right.rank, i) }
                    }
                    var out: [Int32] = []
                    var i = 0
                    while i < n { out.append(symbols[i]); i = next[i] }
                    return out
                }
            }
        }
    }
}

/// A read-only hash table from a pair of ids to (rank, merged id).
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [(rank: Int32, merged: Int32)]
    private let mask: Int
    private static let empty = UInt64.max

    init(_ entries: [(UInt64, (rank: Int32, merged: Int32))]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        keys = [UInt64](repeating: Self.empty, count: capacity)
        values = [(rank: Int32, merged: Int32)](repeating: (0, 0), count: capacity)
        for (key, value) in entries {
            var slot = Self.slot(key, mask)
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = value
        }
    }

    @inline(__always) static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }

    @inline(__always) static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always) func find(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        let key = Self.key(left, right)
        var slot = Self.slot(key, mask)
        while true {
            let k = keys[slot]
            if k == key { return values[slot] }
            if k == Self.empty { return nil }
            slot = (slot + 1) & mask
        }
    }
}
