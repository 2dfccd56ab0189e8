#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cache from pre-tokenized chunks (UTF-8 bytes) to their token ids, for one thread at a time.
///
/// Most chunks of real text repeat ("the", " and", "的"), so encoding is mostly lookups. A
/// `[[UInt8]: [Int32]]` dictionary costs an array allocation per lookup just to form the key;
/// this table hashes the bytes in place and keeps keys and ids in two flat arenas, so a hit
/// allocates nothing. The arenas are raw memory the cache owns (a class, handed between threads
/// but used by one at a time): with Swift arrays, profiles showed a reference-count round trip
/// around each lookup (measured gain of raw memory: ~3% of encoding). Open addressing, linear
/// probing, grown at half full. A slot holds the entry's index and the top 32 bits of its hash,
/// so a probe that meets another chunk's slot is rejected without touching that chunk's entry
/// (with hundreds of thousands of distinct Chinese chunks cached, each entry read is a cache miss).
final class ChunkCache: @unchecked Sendable {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int, keyCount: Int
        var idStart: Int, idCount: Int
    }

    // One thread at a time uses a cache (see above), so its fields skip the run-time exclusivity
    // checks Swift puts on class properties (measured: 3% of encoding spent in those checks).
    @exclusivity(unchecked) private var entries: UnsafeMutablePointer<Entry>
    @exclusivity(unchecked) private var entryCapacity: Int
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<UInt64>      // hash's top 32 bits << 32 | entry index, or empty
    @exclusivity(unchecked) private var slotCount: Int
    @exclusivity(unchecked) private var keys: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var keyCount = 0
    @exclusivity(unchecked) private var keyCapacity: Int
    @exclusivity(unchecked) private var ids: UnsafeMutablePointer<Int32>
    @exclusivity(unchecked) private var idCount = 0
    @exclusivity(unchecked) private var idCapacity: Int
    /// Entries beyond this are not added (memory stays bounded on endless distinct text).
    let maximumEntries: Int
    private static let emptySlot = UInt64.max

    init(maximumEntries: Int = 1 << 20) {
        self.maximumEntries = maximumEntries
        entryCapacity = 1 << 11
        entries = .allocate(capacity: entryCapacity)
        slotCount = 1 << 12
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: Self.emptySlot, count: slotCount)
        keyCapacity = 1 << 14
        keys = .allocate(capacity: keyCapacity)
        idCapacity = 1 << 12
        ids = .allocate(capacity: idCapacity)
    }

    deinit {
        entries.deallocate(); slots.deallocate(); keys.deallocate(); ids.deallocate()
    }

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
        let mask = slotCount - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        let tag = h & 0xFFFF_FFFF_0000_0000
        while true {
            let s = slots[slot]
            if s == Self.emptySlot { return false }
            if s & 0xFFFF_FFFF_0000_0000 != tag { slot = (slot + 1) & mask; continue }
            let e = entries[Int(s & 0xFFFF_FFFF)]
            if e.hash == h && e.keyCount == bytes.count
                && (bytes.count == 0 || memcmp(keys + e.keyStart, bytes.baseAddress!, bytes.count) == 0) {
                output.append(contentsOf: UnsafeBufferPointer(start: ids + e.idStart, count: e.idCount))
                return true
            }
            slot = (slot + 1) & mask
        }
    }

    func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64, ids value: [Int32]) {
        guard count < maximumEntries else { return }
        if (count + 1) * 2 > slotCount { growSlots() }
        if count == entryCapacity { Self.grow(&entries, count: count, capacity: &entryCapacity, needed: count + 1) }
        if keyCount + bytes.count > keyCapacity { Self.grow(&keys, count: keyCount, capacity: &keyCapacity, needed: keyCount + bytes.count) }
        if idCount + value.count > idCapacity { Self.grow(&ids, count: idCount, capacity: &idCapacity, needed: idCount + value.count) }
        (entries + count).initialize(to: Entry(hash: h, keyStart: keyCount, keyCount: bytes.count, idStart: idCount, idCount: value.count))
        if let base = bytes.baseAddress { (keys + keyCount).update(from: base, count: bytes.count) }
        value.withUnsafeBufferPointer { if let base = $0.baseAddress { (ids + idCount).update(from: base, count: value.count) } }
        keyCount += bytes.count
        idCount += value.count
        place(count)
        count += 1
    }

    private func place(_ index: Int) {
        let mask = slotCount - 1
        let h = entries[index].hash
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != Self.emptySlot { slot = (slot + 1) & mask }
        slots[slot] = h & 0xFFFF_FFFF_0000_0000 | UInt64(index)
    }

    private func growSlots() {
        slots.deallocate()
        slotCount *= 2
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: Self.emptySlot, count: slotCount)
        for i in 0..<count { place(i) }
    }

    /// Moves `count` elements to a buffer of at least `needed` (doubling) and frees the old one.
    private static func grow<T>(_ buffer: inout UnsafeMutablePointer<T>, count: Int, capacity: inout Int, needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let bigger = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
        bigger.moveInitialize(from: buffer, count: count)
        buffer.deallocate()
        buffer = bigger
        capacity = newCapacity
    }
}
