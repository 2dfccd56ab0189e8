import Foundation
import LianKernels

// Reads the safetensors format (https://huggingface.co/docs/safetensors):
//
//   [8 bytes: little-endian u64 N] [N bytes: JSON header] [data]
//   header: {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//            "__metadata__": {"key": "value"}}     (offsets relative to the start of data)
//
// The file is memory-mapped; every entry is validated when the file is opened (dtype known,
// shape non-negative, offsets inside the data, end − begin = elements × dtype size, no overlaps),
// so a malformed or truncated file fails at `init` with an error naming the file and the problem.

/// One tensor's place in a safetensors file.
public struct SafeTensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range within the data section.
    public let begin: Int, end: Int

    public var count: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    /// Entries in the order their data appears in the file.
    public let entries: [SafeTensorsEntry]
    public let metadata: [String: String]
    private let byName: [String: Int]
    private let mapping: MappedFile
    private let dataStart: Int

    public convenience init(path: String) throws {
        try self.init(url: URL(fileURLWithPath: path))
    }

    public init(url: URL) throws {
        let path = url.path
        self.path = path
        let mapped = try MappedFile(path: path)
        mapping = mapped
        let size = mapped.size
        guard size >= 8 else {
            throw SafeTensorsError(.truncatedHeader, path: path, "the file has \(size) bytes, fewer than the 8 of the header length; it is not a safetensors file or was cut short")
        }
        var headerLength: UInt64 = 0
        withUnsafeMutableBytes(of: &headerLength) { $0.copyMemory(from: UnsafeRawBufferPointer(start: mapped.base, count: 8)) }
        headerLength = UInt64(littleEndian: headerLength)
        guard headerLength <= UInt64(size - 8) else {
            throw SafeTensorsError(.headerLengthOutOfRange, path: path, "the header claims \(headerLength) bytes but only \(size - 8) follow the length field; the file is truncated or not safetensors")
        }
        let headerData = Data(bytes: mapped.base + 8, count: Int(headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let object = json as? [String: Any] else {
            throw SafeTensorsError(.headerNotJSON, path: path, "the \(headerLength)-byte header is not a JSON object")
        }
        dataStart = 8 + Int(headerLength)
        let dataSize = size - dataStart
        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else {
                    throw SafeTensorsError(.badEntry, path: path, "__metadata__ is not an object of strings")
                }
                for (k, v) in dict {
                    guard let s = v as? String else {
                        throw SafeTensorsError(.badEntry, path: path, "__metadata__ value for '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try Self.parseEntry(name: name, value: value, dataSize: dataSize, path: path))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        // Entries must not share bytes (empty tensors take none and may sit anywhere).
        var lastEnd = 0, lastName = ""
        for e in entries where e.end > e.begin {
            if e.begin < lastEnd {
                throw SafeTensorsError(.overlapping, path: path, "tensor '\(e.name)' (bytes \(e.begin)..<\(e.end)) overlaps '\(lastName)' (ending at \(lastEnd))")
            }
            lastEnd = e.end; lastName = e.name
        }
        self.entries = entries
        self.metadata = metadata
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.name] = i }
        byName = index
    }

    static func parseEntry(name: String, value: Any, dataSize: Int, path: String) throws -> SafeTensorsEntry {
        guard let dict = value as? [String: Any] else {
            throw SafeTensorsError(.badEntry, path: path, "entry '\(name)' is not an object")
        }
        guard let dtypeName = dict["dtype"] as? String else {
            throw SafeTensorsError(.badEntry, path: path, "entry '\(name)' has no dtype string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsError(.unknownDType, path: path, "entry '\(name)' has dtype '\(dtypeName)', which Lian does not read (known: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let shapeValues = dict["shape"] as? [Any], let shape = Self.integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
            throw SafeTensorsError(.badEntry, path: path, "entry '\(name)' has no shape of non-negative integers")
        }
        guard let offsetValues = dict["data_offsets"] as? [Any], let offsets = Self.integers(offsetValues), offsets.count == 2 else {
            throw SafeTensorsError(.badEntry, path: path, "entry '\(name)' has no data_offsets [begin, end]")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw SafeTensorsError(.offsetsOutOfRange, path: path, "entry '\(name)' has data_offsets [\(begin), \(end)] outside the \(dataSize) data bytes; the file is truncated or its header is wrong")
        }
        let (elements, overflow1) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d); return (p, acc.1 || o)
        }
        let (bytes, overflow2) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !overflow1, !overflow2, bytes == end - begin else {
            throw SafeTensorsError(.sizeMismatch, path: path, "entry '\(name)': shape \(shape) of \(dtype.rawValue) needs \(overflow1 || overflow2 ? "too many" : String(bytes)) bytes but data_offsets give \(end - begin)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// JSON numbers as Ints, or nil when one is not a whole number.
    static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            guard let n = v as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }

    // MARK: reading tensors

    public var names: [String] { entries.map(\.name) }

    public func entry(_ name: String) throws -> SafeTensorsEntry {
        guard let i = byName[name] else {
            throw SafeTensorsError(.missingTensor, path: path, "no tensor named '\(name)' (the file has \(entries.count): \(entries.prefix(5).map(\.name).joined(separator: ", "))\(entries.count > 5 ? ", …" : ""))")
        }
        return entries[i]
    }

    /// The raw bytes of a tensor, in place in the mapping.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let e = try entry(name)
        return UnsafeRawBufferPointer(start: mapping.base + dataStart + e.begin, count: e.end - e.begin)
    }

    /// A floating-point tensor as Float32. F32 data that is suitably aligned is used in place
    /// (the mapping is private: writing to the tensor copies, never touches the file); F16, BF16
    /// and F64 are converted. Integer tensors are refused unless `convertingIntegers`.
    public func tensor(_ name: String, convertingIntegers: Bool = false) throws -> Tensor {
        let e = try entry(name)
        guard e.dtype.isFloatingPoint || convertingIntegers else {
            throw SafeTensorsError(.wrongDType, path: path, "tensor '\(name)' is \(e.dtype.rawValue), not floating point; read it with integers(_:)")
        }
        let start = mapping.base + dataStart + e.begin
        if e.dtype == .f32 && Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 && e.count > 0 {
            let storage = TensorStorage(borrowing: start.bindMemory(to: Float.self, capacity: e.count), count: e.count, owner: mapping)
            return Tensor(shape: e.shape, storage: storage)
        }
        let storage = TensorStorage(count: e.count)
        let raw = UnsafeRawPointer(start)
        let out = storage.pointer
        switch e.dtype {
        case .f32: for i in 0..<e.count { out[i] = raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f64: for i in 0..<e.count { out[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .f16: for i in 0..<e.count { out[i] = floatFromHalfBits(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16: for i in 0..<e.count { out[i] = floatFromBFloat16Bits(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        default:
            let ints = try integers(name)
            for i in 0..<e.count { out[i] = Float(ints[i]) }
        }
        return Tensor(shape: e.shape, storage: storage)
    }

    /// An integer (or boolean) tensor's values as Int64.
    public func integers(_ name: String) throws -> [Int64] {
        let e = try entry(name)
        let raw = UnsafeRawPointer(mapping.base + dataStart + e.begin)
        switch e.dtype {
        case .i64: return (0..<e.count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .i32: return (0..<e.count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        case .i16: return (0..<e.count).map { Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
        case .i8: return (0..<e.count).map { Int64(raw.load(fromByteOffset: $0, as: Int8.self)) }
        case .u8, .bool: return (0..<e.count).map { Int64(raw.load(fromByteOffset: $0, as: UInt8.self)) }
        default:
            throw SafeTensorsError(.wrongDType, path: path, "tensor '\(name)' is \(e.dtype.rawValue), not an integer type; read it with tensor(_:)")
        }
    }
}

/// A read-only file mapped into memory with private (copy-on-write) pages.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int
    private let isMapped: Bool

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw SafeTensorsError(.cannotOpen, path: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SafeTensorsError(.cannotOpen, path: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SafeTensorsError(.cannotOpen, path: path, "not a regular file")
        }
        size = Int(st.st_size)
        if size == 0 {
            base = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
            isMapped = false
            return
        }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw SafeTensorsError(.cannotOpen, path: path, "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        base = p
        isMapped = true
    }

    deinit {
        if isMapped { munmap(base, size) } else { base.deallocate() }
    }
}
