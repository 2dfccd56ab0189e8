/// GPT-2's byte-level alphabet: every byte 0...255 stands for one printable Unicode character, so
/// that any UTF-8 text is a string of "byte characters" with no spaces or control characters.
/// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the other 68
/// bytes take the characters from U+0100 upward in byte order (space → `Ġ` U+0120, newline → `Ċ`).
public enum ByteLevel {
    /// byte → its character.
    public static let characters: [Character] = {
        var table = [Character](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            let scalar: UInt32
            if printable {
                scalar = UInt32(b)
            } else {
                scalar = next
                next += 1
            }
            table[b] = Character(Unicode.Scalar(scalar)!)
        }
        return table
    }()

    /// character → its byte.
    public static let bytes: [Character: UInt8] = {
        var map: [Character: UInt8] = [:]
        for (b, c) in characters.enumerated() { map[c] = UInt8(b) }
        return map
    }()

    /// The byte-level spelling of some bytes.
    public static func string<S: Sequence>(for bytes: S) -> String where S.Element == UInt8 {
        String(bytes.map { characters[Int($0)] })
    }

    /// The bytes a byte-level string spells, or nil if it has a character outside the alphabet.
    public static func bytes(of string: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(string.unicodeScalars.count)
        for c in string {
            guard let b = bytes[c] else { return nil }
            out.append(b)
        }
        return out
    }
}
