import Foundation

/// A small JSON writer for the pipeline's logs (rejects, duplicate clusters): strings, integers,
/// numbers, booleans, lists and objects with sorted keys. Foundation's serialiser cost more than
/// the dedup it was logging.
enum JSONText {
    static func append(_ value: Any, to out: inout [UInt8]) {
        switch value {
        case let s as String: appendString(s, to: &out)
        case let i as Int: out.append(contentsOf: String(i).utf8)
        case let b as Bool: out.append(contentsOf: (b ? "true" : "false").utf8)
        case let d as Double: out.append(contentsOf: (d.isFinite ? "\(d)" : "null").utf8)
        case let list as [Any]:
            out.append(UInt8(ascii: "["))
            for (i, v) in list.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(v, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (i, key) in object.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(object[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        default:
            out.append(contentsOf: "null".utf8)
        }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { bytes in
            // Runs of bytes that need no escape are copied whole.
            var runStart = 0
            for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Appends JSON objects as lines to a file, buffered.
final class JSONLWriter {
    private let file: BufferedFileWriter

    init(_ url: URL) throws { file = try BufferedFileWriter(url) }

    func write(_ object: [String: Any]) throws {
        try file.append(DataPipeline.jsonLine(object))
    }

    /// Appends a line already written (by `DataPipeline.jsonLine`).
    func append(_ line: [UInt8]) throws { try file.append(line) }

    func close() throws { try file.close() }
}
