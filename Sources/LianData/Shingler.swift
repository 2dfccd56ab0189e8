/// Splits text into units for shingling and repetition statistics: each Han, kana or hangul
/// character is a unit (those scripts do not separate words with spaces), and every other run of
/// letters or digits is a unit (a word), lower-cased. Mixed documents mix both kinds.
public enum Shingler {
    public static func units(_ text: String) -> [String] {
        var units: [String] = []
        var word = String.UnicodeScalarView()
        func flush() { if !word.isEmpty { units.append(String(word).lowercased()); word = String.UnicodeScalarView() } }
        for s in text.unicodeScalars {
            let script = Cleaner.script(of: s)
            if script == .han || script == .kana || script == .hangul {
                flush()
                units.append(String(s))
            } else if s.properties.isAlphabetic || s.properties.numericType != nil {
                word.append(s)
            } else {
                flush()
            }
        }
        flush()
        return units
    }

    /// Hashes of the n-grams of units (FNV-1a over the units' UTF-8, 64-bit): the shingle set.
    public static func shingles(_ text: String, n: Int) -> Set<UInt64> {
        let u = units(text)
        var result = Set<UInt64>()
        if u.isEmpty { return result }
        let size = min(n, u.count)
        for i in 0...(u.count - size) {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for unit in u[i..<(i + size)] {
                for b in unit.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
                h = (h ^ 0x1F) &* 0x100_0000_01B3   // unit separator
            }
            result.insert(h)
        }
        return result
    }
}
