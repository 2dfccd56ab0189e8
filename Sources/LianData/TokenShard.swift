import Foundation

// Token shards: the tokenized corpus on disk, read by training through a memory map.
//
//   offset  size  field
//        0     8  magic "LIANTOKS"
//        8     4  format version (1), little-endian u32
//       12     4  bytes per token: 2 (u16, when the vocabulary fits) or 4 (u32)
//       16     8  vocabulary size, u64
//       24     8  token count, u64
//       32    32  reserved (zero)
//       64     …  tokens, little-endian, `count × width` bytes; EOS between documents

/// Why a file cannot be read or written (a shard, a document file); names the file (and line).
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

public enum TokenShardFormat {
    public static let magic: [UInt8] = Array("LIANTOKS".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 64
}

/// Writes one shard: documents are appended with an EOS token after each; the header is written
/// when the shard is finished, and the file appears under its name only then (atomic rename).
public final class TokenShardWriter {
    public let url: URL
    public let vocabularySize: Int
    public let eos: Int32
    public let width: Int
    public private(set) var count = 0
    private let temporary: URL
    private let handle: FileHandle
    /// Encoded tokens waiting to be written (raw memory: appending is a conversion loop, no more).
    private let capacity = 1 << 20
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 64)
    private var used = 0

    public init(url: URL, vocabularySize: Int, eos: Int32) throws {
        precondition(vocabularySize > 0 && Int(eos) < vocabularySize && eos >= 0, "[shard] EOS \(eos) outside the vocabulary")
        self.url = url
        self.vocabularySize = vocabularySize
        self.eos = eos
        width = vocabularySize <= 65_536 ? 2 : 4
        temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(count: TokenShardFormat.headerSize)),
              let h = FileHandle(forWritingAtPath: temporary.path) else {
            throw DataError(path: url.path, "cannot create the shard")
        }
        handle = h
        try handle.seekToEnd()
    }

    deinit { buffer.deallocate() }

    /// Appends a document's tokens and an EOS.
    public func append(document ids: [Int32]) throws {
        // One pass checks the range (as unsigned, a negative id is out of range too).
        var largest: UInt32 = 0
        ids.withUnsafeBufferPointer { p in for id in p { largest = max(largest, UInt32(bitPattern: id)) } }
        if largest >= UInt32(vocabularySize), let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw DataError(path: url.path, "token \(bad) is outside the vocabulary of \(vocabularySize)")
        }
        // Little-endian, as the header says.
        let bytes = (ids.count + 1) * width
        if used + bytes > capacity { try flush() }
        if bytes > capacity {
            // A document larger than the buffer is encoded and written on its own.
            var own = [UInt8](repeating: 0, count: bytes)
            own.withUnsafeMutableBytes { encode(ids, into: $0.baseAddress!) }
            try handle.write(contentsOf: own)
        } else {
            encode(ids, into: buffer + used)
            used += bytes
        }
        count += ids.count + 1
    }

    private func encode(_ ids: [Int32], into out: UnsafeMutableRawPointer) {
        ids.withUnsafeBufferPointer { ids in
            if width == 2 {
                let out = out.assumingMemoryBound(to: UInt16.self)
                for i in 0..<ids.count { out[i] = UInt16(truncatingIfNeeded: ids[i]).littleEndian }
                out[ids.count] = UInt16(truncatingIfNeeded: eos).littleEndian
            } else {
                let out = out.assumingMemoryBound(to: UInt32.self)
                for i in 0..<ids.count { out[i] = UInt32(bitPattern: ids[i]).littleEndian }
                out[ids.count] = UInt32(bitPattern: eos).littleEndian
            }
        }
    }

    private func flush() throws {
        guard used > 0 else { return }
        try handle.write(contentsOf: Data(bytesNoCopy: buffer, count: used, deallocator: .none))
        used = 0
    }

    /// Writes the header, syncs and renames the shard into place.
    public func finish() throws {
        try flush()
        var header = Data(TokenShardFormat.magic)
        withUnsafeBytes(of: TokenShardFormat.version.littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(width).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(vocabularySize).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(count).littleEndian) { header.append(contentsOf: $0) }
        header.append(Data(count: TokenShardFormat.headerSize - header.count))
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: header)
        try handle.synchronize()
        try handle.close()
        if rename(temporary.path, url.path) != 0 {
            throw DataError(path: url.path, "cannot move the finished shard into place: \(String(cString: strerror(errno)))")
        }
    }
}

/// A shard opened for reading through a memory map; the header is validated against the file.
public final class TokenShard: @unchecked Sendable {
    public let path: String
    public let vocabularySize: Int
    public let width: Int
    public let count: Int
    private let base: UnsafeRawPointer
    private let size: Int

    public init(url: URL) throws {
        path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError(path: path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DataError(path: path, "cannot stat") }
        size = Int(st.st_size)
        guard size >= TokenShardFormat.headerSize else {
            throw DataError(path: path, "is \(size) bytes, shorter than the \(TokenShardFormat.headerSize)-byte shard header: truncated or not a Lian shard")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw DataError(path: path, "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        let mapped = UnsafeRawPointer(p)
        do {
            (width, vocabularySize, count) = try Self.readHeader(mapped, size: size, path: path)
        } catch {
            munmap(p, size)
            throw error
        }
        base = mapped
    }

    /// Validates the header against the file size; returns (width, vocabulary size, count).
    static func readHeader(_ base: UnsafeRawPointer, size: Int, path: String) throws -> (Int, Int, Int) {
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == TokenShardFormat.magic else {
            throw DataError(path: path, "does not start with the magic LIANTOKS: not a Lian token shard")
        }
        guard u32(8) == TokenShardFormat.version else {
            throw DataError(path: path, "is format version \(u32(8)); this Lian reads version \(TokenShardFormat.version)")
        }
        let width = Int(u32(12))
        guard width == 2 || width == 4 else { throw DataError(path: path, "has token width \(width); expected 2 or 4") }
        guard u64(24) <= UInt64(Int.max / 8) else { throw DataError(path: path, "has an impossible token count \(u64(24))") }
        let vocabularySize = Int(u64(16)), count = Int(u64(24))
        let expected = TokenShardFormat.headerSize + count * width
        guard size == expected else {
            throw DataError(path: path, "header says \(count) tokens (\(expected) bytes) but the file has \(size) bytes: truncated or corrupted; write it again")
        }
        return (width, vocabularySize, count)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    /// Token at position i.
    @inline(__always) public subscript(i: Int) -> Int32 {
        let o = TokenShardFormat.headerSize + i * width
        return width == 2 ? Int32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
                          : Int32(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
    }
}
