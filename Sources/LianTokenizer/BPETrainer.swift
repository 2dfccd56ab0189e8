import Foundation

/// Trains a byte-level BPE tokenizer.
///
/// 1. Counting: text is pre-tokenized and each distinct chunk's bytes counted (streaming: the
///    text itself is never kept, only the table of distinct chunks).
/// 2. Merging: every adjacent pair of symbols is counted once, weighted by chunk frequency, and
///    the pairs go into a max-heap. Each step pops the most frequent pair (ties: the smaller pair
///    of ids, as Hugging Face does), makes it a new token, and rewrites only the chunks that
///    contain it, updating the counts of the pairs around each occurrence — never a full recount.
///    Heap entries whose count has changed since they were pushed are refreshed when popped.
///
/// Ids: the special tokens first (0..<S), then the 256 bytes in byte order, then merges in order.
public struct BPETrainer {
    public var vocabularySize: Int
    public var minimumFrequency: Int
    public var specialTokens: [String]
    public var preTokenizer: PreTokenizer

    /// Distinct chunk bytes → count.
    public private(set) var chunkCounts: [[UInt8]: Int] = [:]
    /// Bytes of text counted so far.
    public private(set) var bytesCounted = 0

    public init(vocabularySize: Int, minimumFrequency: Int = 2, specialTokens: [String] = ["<|endoftext|>"],
                preTokenizer: PreTokenizer = .cjk) {
        self.vocabularySize = vocabularySize
        self.minimumFrequency = minimumFrequency
        self.specialTokens = specialTokens
        self.preTokenizer = preTokenizer
    }

    /// Counts the chunks of one piece of text.
    public mutating func count(_ text: String) {
        bytesCounted += text.utf8.count
        for chunk in preTokenizer.split(text) { chunkCounts[Array(chunk.utf8), default: 0] += 1 }
    }

    /// Counts a file, read in blocks of about `blockSize` bytes cut after a newline (so memory
    /// stays bounded by the block and the chunk table, whatever the file's size).
    public mutating func count(fileAt url: URL, blockSize: Int = 1 << 20, progress: ((Int) -> Void)? = nil) throws {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw TokenizerError(path: url.path, "cannot open the file to train on")
        }
        defer { try? handle.close() }
        var carry = Data()
        while true {
            let block = handle.readData(ofLength: blockSize)
            var data = carry + block
            carry = Data()
            if !block.isEmpty, let lastNewline = data.lastIndex(of: 0x0A) {
                carry = data[(lastNewline + 1)...]
                data = data[..<(lastNewline + 1)]
            }
            if data.isEmpty && block.isEmpty { break }
            count(String(decoding: data, as: UTF8.self))
            progress?(bytesCounted)
            if block.isEmpty { if !carry.isEmpty { count(String(decoding: carry, as: UTF8.self)) }; break }
        }
    }

    /// Runs the merges and returns the tokenizer. `progress(merges done, merges wanted)`.
    public func train(progress: ((Int, Int) -> Void)? = nil) throws -> BPETokenizer {
        let s = specialTokens.count
        let firstMerge = s + 256
        guard vocabularySize >= firstMerge else {
            throw TokenizerError(path: "training", "vocabulary size \(vocabularySize) is below the \(firstMerge) ids that the 256 bytes and \(s) special tokens need")
        }
        var tokenBytes: [[UInt8]] = Array(repeating: [], count: s) + (0..<256).map { [UInt8($0)] }
        var idOf: [[UInt8]: Int32] = [:]
        for (id, bytes) in tokenBytes.enumerated() where !bytes.isEmpty { idOf[bytes] = Int32(id) }
        var merges: [(Int32, Int32)] = []

        // Words: distinct chunks as symbol ids, with their counts. Sorted for a deterministic order.
        let distinct = chunkCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var words: [[Int32]] = distinct.map { entry in entry.key.map { Int32(s) + Int32($0) } }
        let counts: [Int] = distinct.map(\.value)

        var pairCounts: [UInt64: Int] = [:]
        var pairWords: [UInt64: [Int32]] = [:]
        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0..<(word.count - 1) {
                let k = key(word[i], word[i + 1])
                pairCounts[k, default: 0] += counts[w]
                if pairWords[k]?.last != Int32(w) { pairWords[k, default: []].append(Int32(w)) }
            }
        }
        var heap = PairHeap()
        for (k, c) in pairCounts { heap.push(count: c, pair: k) }

        let wanted = vocabularySize - firstMerge
        while tokenBytes.count < vocabularySize, let top = heap.pop() {
            let current = pairCounts[top.pair] ?? 0
            if current != top.count {
                if current > 0 { heap.push(count: current, pair: top.pair) }
                continue
            }
            if current < max(1, minimumFrequency) { break }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            // Two merge orders can spell the same bytes ("ab"+"c", "a"+"bc"): the token is then
            // reused, so every byte string has one id.
            let bytes = tokenBytes[Int(a)] + tokenBytes[Int(b)]
            let newID: Int32
            if let existing = idOf[bytes] {
                newID = existing
            } else {
                newID = Int32(tokenBytes.count)
                tokenBytes.append(bytes)
                idOf[bytes] = newID
            }
            merges.append((a, b))
            var touched = Set<UInt64>()
            for w in pairWords.removeValue(forKey: top.pair) ?? [] {
                var symbols = words[Int(w)]
                guard symbols.count > 1 else { continue }
                // Merge each occurrence in place, moving the counts of the neighbouring pairs:
                // (x, a) becomes (x, new) and (b, y) becomes (new, y). The pair (a, b) itself is
                // dropped after the loop.
                let c = counts[Int(w)]
                var i = 0
                while i < symbols.count - 1 {
                    if symbols[i] == a && symbols[i + 1] == b {
                        if i > 0 {
                            pairCounts[key(symbols[i - 1], a), default: 0] -= c
                            let k = key(symbols[i - 1], newID)
                            pairCounts[k, default: 0] += c
                            touched.insert(k)
                            if pairWords[k]?.last != w { pairWords[k, default: []].append(w) }
                        }
                        if i + 2 < symbols.count {
                            pairCounts[key(b, symbols[i + 2]), default: 0] -= c
                            let k = key(newID, symbols[i + 2])
                            pairCounts[k, default: 0] += c
                            touched.insert(k)
                            if pairWords[k]?.last != w { pairWords[k, default: []].append(w) }
                        }
                        symbols[i] = newID
                        symbols.remove(at: i + 1)
                    }
                    i += 1
                }
                words[Int(w)] = symbols
            }
            pairCounts[top.pair] = nil
            for k in touched where k != top.pair {
                if let c = pairCounts[k], c > 0 { heap.push(count: c, pair: k) }
            }
            progress?(tokenBytes.count - firstMerge, wanted)
        }

        var special: [String: Int32] = [:]
        for (i, token) in specialTokens.enumerated() { special[token] = Int32(i) }
        let model = try BPEModel(tokenBytes: tokenBytes, merges: merges, ignoreMerges: false, path: "training")
        return BPETokenizer(model: model, preTokenizer: preTokenizer, specialTokens: special)
    }
}

/// A max-heap of (count, pair), larger count first, then the smaller pair.
struct PairHeap {
    private var items: [(count: Int, pair: UInt64)] = []

    @inline(__always) static func before(_ x: (count: Int, pair: UInt64), _ y: (count: Int, pair: UInt64)) -> Bool {
        x.count > y.count || (x.count == y.count && x.pair < y.pair)
    }

    mutating func push(count: Int, pair: UInt64) {
        items.append((count, pair))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if Self.before(items[i], items[parent]) { items.swapAt(i, parent); i = parent } else { break }
        }
    }

    mutating func pop() -> (count: Int, pair: UInt64)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && Self.before(items[l], items[best]) { best = l }
                if r < items.count && Self.before(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best); i = best
            }
        }
        return top
    }
}
