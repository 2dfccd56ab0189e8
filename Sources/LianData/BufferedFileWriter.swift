import Foundation

/// A new file written through an in-memory buffer, handed to the system every 4 MiB: the
/// pipeline's logs (`JSONLWriter`) and work files (`WorkFileWriter`) append many small records.
final class BufferedFileWriter {
    let url: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let flushBytes = 1 << 22

    init(_ url: URL, what: String = "the file") throws {
        self.url = url
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let h = FileHandle(forWritingAtPath: url.path) else {
            throw DataError(path: url.path, "cannot create \(what) (is the output folder writable?)")
        }
        handle = h
        buffer.reserveCapacity(flushBytes)
    }

    func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 { buffer.append(contentsOf: bytes) }

    /// Appends a value's little-endian bytes.
    func append(littleEndian value: UInt32) { withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) } }

    /// Writes the buffer out once it holds 4 MiB.
    func flushIfFull() throws { if buffer.count >= flushBytes { try flush() } }

    private func flush() throws {
        try handle.write(contentsOf: Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}
