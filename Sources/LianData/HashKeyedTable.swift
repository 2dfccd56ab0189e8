/// An open-addressing table keyed by 64-bit hashes, for the cleaning filters' per-document
/// counts (2-grams, lines). Swift's `Dictionary` hashes every key again with seeded SipHash,
/// which cost more than the filters' own work; these keys are hashes already, so a multiply
/// (Fibonacci hashing) picks the slot. Linear probing, grown at half full.
struct HashKeyedTable<Value> {
    private var keys: [UInt64]
    private var values: [Value]
    private var occupied: [Bool]
    private var shift: Int
    private let empty: Value
    private(set) var count = 0

    /// `empty` fills unused slots (never returned).
    init(capacity: Int = 16, empty: Value) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        values = [Value](repeating: empty, count: size)
        occupied = [Bool](repeating: false, count: size)
        shift = 64 - size.trailingZeroBitCount
        self.empty = empty
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift)) }

    /// Calls `update` on the key's value, inserting `initial` first when the key is new;
    /// returns whether it was new.
    @discardableResult
    mutating func update(_ key: UInt64, initial: @autoclosure () -> Value, _ update: (inout Value) -> Void = { _ in }) -> Bool {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var i = slot(key)
        while occupied[i] {
            if keys[i] == key { update(&values[i]); return false }
            i = (i + 1) & mask
        }
        occupied[i] = true
        keys[i] = key
        values[i] = initial()
        count += 1
        return true
    }

    func forEach(_ body: (UInt64, Value) -> Void) {
        for i in keys.indices where occupied[i] { body(keys[i], values[i]) }
    }

    private mutating func grow() {
        let (oldKeys, oldValues, oldOccupied) = (keys, values, occupied)
        keys = [UInt64](repeating: 0, count: oldKeys.count * 2)
        values = [Value](repeating: empty, count: oldKeys.count * 2)
        occupied = [Bool](repeating: false, count: oldKeys.count * 2)
        shift -= 1
        let mask = keys.count - 1
        for j in oldKeys.indices where oldOccupied[j] {
            var i = slot(oldKeys[j])
            while occupied[i] { i = (i + 1) & mask }
            occupied[i] = true; keys[i] = oldKeys[j]; values[i] = oldValues[j]
        }
    }
}
