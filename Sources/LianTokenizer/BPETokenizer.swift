import Foundation
import Synchronization

/// A byte-level BPE tokenizer: a pre-tokenizer, a BPE model and special tokens.
///
/// ```
/// let tokenizer = try BPETokenizer(contentsOf: URL(fileURLWithPath: "tokenizer.json"))
/// tokenizer.encode("Hello world!")        // [15496, 995, 0] with GPT-2's file
/// tokenizer.decode([15496, 995, 0])       // "Hello world!"
/// ```
public final class BPETokenizer: @unchecked Sendable {
    public let model: BPEModel
    public let preTokenizer: PreTokenizer
    /// Special (added) tokens: content → id.
    public let specialTokens: [String: Int32]
    private let specialByID: [Int32: String]
    /// Chunk bytes → ids, for chunks seen before (most chunks of a text are repeated words). Keyed
    /// by bytes, not String: Swift compares strings by canonical equivalence, and U+2000 EN QUAD
    /// "equals" U+2002 EN SPACE though their bytes and tokens differ. These are the caches not in
    /// use, one per thread that encoded last; kept across calls, since a corpus encoded in
    /// batches repeats the same words batch after batch.
    private var spareCaches: [ChunkCache] = []
    private let cacheLock = NSLock()

    /// A cache to use on one thread (given back with `giveBack`).
    private func takeCache() -> ChunkCache {
        cacheLock.lock(); defer { cacheLock.unlock() }
        return spareCaches.popLast() ?? ChunkCache()
    }

    private func giveBack(_ cache: ChunkCache) {
        cacheLock.lock(); defer { cacheLock.unlock() }
        // Bounded: a cache grown past 200,000 chunks (endless distinct text) starts over.
        if spareCaches.count < 8 { spareCaches.append(cache.count > 200_000 ? ChunkCache() : cache) }
    }

    public init(model: BPEModel, preTokenizer: PreTokenizer, specialTokens: [String: Int32]) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.specialTokens = specialTokens
        var byID: [Int32: String] = [:]
        for (content, id) in specialTokens { byID[id] = content }
        specialByID = byID
    }

    /// The number of ids the tokenizer can produce (one past the largest).
    public var vocabularySize: Int {
        max(model.tokenBytes.count, (specialTokens.values.max().map { Int($0) + 1 }) ?? 0)
    }

    /// Token ids for `text`. Special tokens are recognised only when listed in `allowedSpecial`
    /// (by default none: "<|endoftext|>" in user text is just text).
    public func encode(_ text: String, allowedSpecial: Set<String> = []) -> [Int32] {
        var local = takeCache()
        let ids = encode(text, allowedSpecial: allowedSpecial, cache: &local)
        giveBack(local)
        return ids
    }

    /// Encoding with a cache the caller owns (one per thread in `encodeBatch`: no locking).
    func encode(_ text: String, allowedSpecial: Set<String>, cache: inout ChunkCache) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3)
        for (piece, special) in splitOnSpecial(text, allowed: allowedSpecial) {
            if let special { ids.append(special); continue }
            encodeOrdinary(String(piece), into: &ids, cache: &cache)
        }
        return ids
    }

    /// Text without special tokens: pre-tokenized into chunks, each chunk's UTF-8 bytes looked
    /// up in place (no copy) and merged by the model on a miss.
    func encodeOrdinary(_ text: String, into ids: inout [Int32], cache: inout ChunkCache) {
        var text = text
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars { scalars.append(s) }   // one pass (Array(_:) counts first)
        let ends = preTokenizer.chunkEnds(scalars)
        text.withUTF8 { bytes in
            var scalarStart = 0, byteStart = 0
            for end in ends {
                var byteEnd = byteStart
                for k in scalarStart..<end {
                    let v = scalars[k].value
                    byteEnd += v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4
                }
                let chunk = UnsafeBufferPointer(rebasing: bytes[byteStart..<byteEnd])
                let h = ChunkCache.hash(chunk)
                if !cache.lookup(chunk, hash: h, into: &ids) {
                    let chunkIDs = model.encode(Array(chunk))
                    cache.insert(chunk, hash: h, ids: chunkIDs)
                    ids += chunkIDs
                }
                scalarStart = end
                byteStart = byteEnd
            }
        }
    }

    /// Encodes many texts, spread over `threads` threads, each with its own chunk cache. Texts
    /// are handed out one at a time (an atomic counter), so one long document does not leave
    /// the other threads idle behind a split made by count.
    public func encodeBatch(_ texts: [String], threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                            allowedSpecial: Set<String> = []) -> [[Int32]] {
        var results = [[Int32]](repeating: [], count: texts.count)
        let parts = max(1, min(threads, texts.count))
        let next = Atomic<Int>(0)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UnsafeSendableBuffer(buffer)
            DispatchQueue.concurrentPerform(iterations: parts) { _ in
                var cache = self.takeCache()
                while true {
                    let i = next.add(1, ordering: .relaxed).oldValue
                    guard i < texts.count else { break }
                    out.buffer[i] = self.encode(texts[i], allowedSpecial: allowedSpecial, cache: &cache)
                }
                self.giveBack(cache)
            }
        }
        return results
    }

    /// Splits text at occurrences of the allowed special tokens (longest first at a position),
    /// comparing Unicode scalars exactly.
    func splitOnSpecial(_ text: String, allowed: Set<String>) -> [(Substring, Int32?)] {
        let candidates = allowed.compactMap { s in specialTokens[s].map { (Array(s.unicodeScalars), $0) } }
            .sorted { $0.0.count > $1.0.count }
        guard !candidates.isEmpty else { return [(Substring(text), nil)] }
        let scalars = text.unicodeScalars
        var parts: [(Substring, Int32?)] = []
        var start = scalars.startIndex, i = scalars.startIndex
        while i < scalars.endIndex {
            if let (token, id) = candidates.first(where: { scalars[i...].starts(with: $0.0) }) {
                if start < i { parts.append((Substring(scalars[start..<i]), nil)) }
                let end = scalars.index(i, offsetBy: token.count)
                parts.append((Substring(scalars[i..<end]), id))
                i = end
                start = i
            } else {
                i = scalars.index(after: i)
            }
        }
        if start < scalars.endIndex { parts.append((Substring(scalars[start...]), nil)) }
        return parts
    }

    /// The bytes the ids stand for (special tokens as their text).
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids {
            if let s = specialByID[id] {
                out += Array(s.utf8)
            } else if id >= 0 && Int(id) < model.tokenBytes.count {
                out += model.tokenBytes[Int(id)]
            }
        }
        return out
    }

    /// The text the ids stand for; a byte sequence that is not valid UTF-8 (a cut character)
    /// becomes U+FFFD, as Hugging Face's and tiktoken's decoders do.
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }
}

/// A buffer whose elements parallel workers write at disjoint indices.
struct UnsafeSendableBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
