/// A cache from pre-tokenized chunks (UTF-8 bytes) to their token ids, for one thread.
///
/// Most chunks of real text repeat ("the", " and", "的"), so encoding is mostly lookups. A
/// `[[UInt8]: [Int32]]` dictionary costs an array allocation per lookup just to form the key;
/// this table hashes the bytes in place and keeps keys and ids in two flat arenas, so a hit
/// allocates nothing. Open addressing, linear probing, grown at half full.
struct ChunkCache {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int, keyCount: Int
        var idStart: Int, idCount: Int
    }

    private var entries: [Entry] = []
    private var slots: [Int32]              // entry index, or -1
    private var keys: [UInt8] = []
    private var ids: [Int32] = []
    /// Entries beyond this are not added (memory stays bounded on endless distinct text).
    let maximumEntries: Int

    init(maximumEntries: Int = 1 << 20) {
        self.maximumEntries = maximumEntries
        slots = [Int32](repeating: -1, count: 1 << 12)
    }

    var count: Int { entries.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // FNV-1a over the bytes, finished with a multiply-xorshift so the low bits mix well.
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }

    /// Appends the cached ids of `bytes` to `output` and returns true, or returns false.
    @inline(__always)
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64, into output: inout [Int32]) -> Bool {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return false }
            let e = entries[index]
            if e.hash == h && e.keyCount == bytes.count {
                let equal = keys.withUnsafeBufferPointer { k in
                    bytes.count == 0 || memcmp(k.baseAddress! + e.keyStart, bytes.baseAddress!, bytes.count) == 0
                }
                if equal {
                    ids.withUnsafeBufferPointer { output.append(contentsOf: UnsafeBufferPointer(rebasing: $0[e.idStart..<(e.idStart + e.idCount)])) }
                    return true
                }
            }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64, ids value: [Int32]) {
        guard entries.count < maximumEntries else { return }
        if (entries.count + 1) * 2 > slots.count { grow() }
        entries.append(Entry(hash: h, keyStart: keys.count, keyCount: bytes.count, idStart: ids.count, idCount: value.count))
        keys.append(contentsOf: bytes)
        ids.append(contentsOf: value)
        place(entries.count - 1)
    }

    private mutating func place(_ index: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: entries[index].hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for i in entries.indices { place(i) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
