import Foundation

/// A new file written through an in-memory buffer, handed to the system every 4 MiB: the
/// pipeline's logs (`JSONLWriter`) and work files (`WorkFileWriter`) append many small records,
/// so an append is a bounds check and a copy into memory the writer owns.
final class BufferedFileWriter {
    let url: URL
    private let handle: FileHandle
    private let capacity = 1 << 22
    private let buffer: UnsafeMutableRawPointer
    private var used = 0

    init(_ url: URL, what: String = "the file") throws {
        self.url = url
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let h = FileHandle(forWritingAtPath: url.path) else {
            throw DataError(path: url.path, "cannot create \(what) (is the output folder writable?)")
        }
        handle = h
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if used + bytes.count > capacity { try flush() }
        if bytes.count > capacity {
            // Larger than the buffer: handed to the system as it is (the caller keeps it alive).
            try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
            return
        }
        (buffer + used).copyMemory(from: base, byteCount: bytes.count)
        used += bytes.count
    }

    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    private func flush() throws {
        guard used > 0 else { return }
        try handle.write(contentsOf: Data(bytesNoCopy: buffer, count: used, deallocator: .none))
        used = 0
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}
