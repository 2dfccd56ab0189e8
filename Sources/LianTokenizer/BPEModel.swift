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
    /// (left id, right id) → (rank, merged id).
    let merges: [MergePair: (rank: Int32, merged: Int32)]
    /// The merges in rank order, as (left id, right id).
    public let mergeList: [(Int32, Int32)]
    /// Single byte → token id.
    let byteIDs: [Int32]
    public let ignoreMerges: Bool

    struct MergePair: Hashable, Sendable { let left: Int32, right: Int32 }

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
        var table: [MergePair: (rank: Int32, merged: Int32)] = [:]
        for (rank, (l, r)) in merges.enumerated() {
            guard let merged = ids[tokenBytes[Int(l)] + tokenBytes[Int(r)]] else {
                throw TokenizerError(path: path, "merge \(rank) joins two tokens whose concatenation is not in the vocabulary")
            }
            let pair = MergePair(left: l, right: r)
            if table[pair] == nil { table[pair] = (Int32(rank), merged) }
        }
        self.merges = table
        self.mergeList = merges
        self.ignoreMerges = ignoreMerges
    }

    /// The token ids of one chunk of bytes.
    public func encode(_ bytes: [UInt8]) -> [Int32] {
        if bytes.isEmpty { return [] }
        if ignoreMerges, let id = ids[bytes] { return [id] }
        var symbols = bytes.map { byteIDs[Int($0)] }
        while symbols.count > 1 {
            var best: (rank: Int32, merged: Int32)? = nil
            var bestIndex = -1
            for i in 0..<(symbols.count - 1) {
                if let m = merges[MergePair(left: symbols[i], right: symbols[i + 1])], best == nil || m.rank < best!.rank {
                    best = m
                    bestIndex = i
                }
            }
            guard let merge = best else { break }
            // Merge every occurrence of the pair, left to right.
            let (left, right) = (symbols[bestIndex], symbols[bestIndex + 1])
            var out: [Int32] = []
            out.reserveCapacity(symbols.count - 1)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count && symbols[i] == left && symbols[i + 1] == right {
                    out.append(merge.merged)
                    i += 2
                } else {
                    out.append(symbols[i])
                    i += 1
                }
            }
            symbols = out
        }
        return symbols
    }
}
