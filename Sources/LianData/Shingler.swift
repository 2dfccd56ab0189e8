/// Splits text into units for shingling and repetition statistics: each Han, kana or hangul
/// character is a unit (those scripts do not separate words with spaces), and every other run of
/// letters or digits is a unit (a word; ASCII letters lower-cased). Mixed documents mix both.
/// Units are hashed as they are scanned (FNV-1a, 64-bit), so no string is built per unit.
public enum Shingler {
    public struct Unit: Equatable { public let hash: UInt64; public let length: Int; public let start: Int }

    static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x100_0000_01B3

    /// The units of a text: hash, length in scalars, and start offset in scalars.
    public static func units(_ text: String) -> [Unit] {
        var text = text
        return text.withUTF8 { b in
            // All state is local to this closure and changed through a struct's mutating methods:
            // variables captured by local functions were checked for exclusive access at run
            // time on every scalar (4% of the data pipeline's samples).
            var scan = UnitScan()
            var i = 0, position = 0
            while i < b.count {
                let byte = b[i]
                if byte < 0x80 {
                    i += 1
                    let lower = UInt32(byte | 0x20)
                    if lower >= 0x61 && lower <= 0x7A {
                        scan.extend(lower, at: position)
                    } else if byte >= 0x30 && byte <= 0x39 {
                        scan.extend(UInt32(byte), at: position)
                    } else {
                        scan.flush()
                    }
                    position += 1
                    continue
                }
                let (v, n) = UTF8Scan.scalar(at: i, in: b)
                i += n
                let s = Unicode.Scalar(v)!
                let script = v >= 0x4E00 && v < 0xA000 ? .han : Cleaner.script(of: s)
                if script == .han || script == .kana || script == .hangul {
                    scan.flush()
                    scan.extend(v, at: position)
                    scan.flush()
                } else if s.properties.isAlphabetic || s.properties.numericType != nil {
                    scan.extend(v, at: position)
                } else {
                    scan.flush()
                }
                position += 1
            }
            scan.flush()
            return scan.units
        }
    }

    /// The unit being scanned (hashed as it grows) and the units so far.
    private struct UnitScan {
        var units: [Unit] = []
        var hash = offsetBasis, length = 0, start = 0

        /// Adds a scalar (its three low bytes) to the current unit, which starts at `position`
        /// if it is empty.
        @inline(__always) mutating func extend(_ value: UInt32, at position: Int) {
            if length == 0 { start = position }
            var v = value
            for _ in 0..<3 { hash = (hash ^ UInt64(v & 0xFF)) &* prime; v >>= 8 }
            length += 1
        }

        @inline(__always) mutating func flush() {
            if length > 0 { units.append(Unit(hash: hash, length: length, start: start)) }
            hash = offsetBasis; length = 0
        }
    }

    /// Calls `body` with the hash of each n-gram of units, in order, repeats included (the hashes
    /// `shingles` collects into a set).
    public static func forEachShingle(_ text: String, n: Int, _ body: (UInt64) -> Void) {
        forEachShingle(units: units(text), n: n, body)
    }

    /// The same, from units already computed.
    public static func forEachShingle(units u: [Unit], n: Int, _ body: (UInt64) -> Void) {
        if u.isEmpty { return }
        let size = min(n, u.count)
        for i in 0...(u.count - size) {
            var h = offsetBasis
            for k in i..<(i + size) { h = (h ^ u[k].hash) &* prime }
            body(h)
        }
    }

    /// Hashes of the n-grams of units: the shingle set.
    public static func shingles(_ text: String, n: Int) -> Set<UInt64> {
        var result = Set<UInt64>()
        forEachShingle(text, n: n) { result.insert($0) }
        return result
    }
}
