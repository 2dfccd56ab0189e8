import Foundation

/// Writes safetensors files: entries laid out in the order given, the header padded with spaces
/// to a multiple of 8 bytes so that every tensor's data is aligned, written atomically.
public struct SafeTensorsWriter {
    struct Pending { let name: String; let dtype: SafeTensorsDType; let shape: [Int]; let bytes: Data }

    private var pending: [Pending] = []
    public var metadata: [String: String] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds a Float32 tensor, stored as `dtype` (F32, F16, BF16 or F64).
    public mutating func add(_ name: String, _ tensor: Tensor, as dtype: SafeTensorsDType = .f32) {
        precondition(dtype.isFloatingPoint, "[safetensors] \(dtype.rawValue) is not a floating-point type; use add(_:integers:shape:as:)")
        var data = Data(capacity: tensor.count * dtype.size)
        tensor.withUnsafeBufferPointer { values in
            switch dtype {
            case .f32: for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            case .f64: for v in values { withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            case .f16: for v in values { withUnsafeBytes(of: halfBitsFromFloat(v).littleEndian) { data.append(contentsOf: $0) } }
            case .bf16: for v in values { withUnsafeBytes(of: bfloat16BitsFromFloat(v).littleEndian) { data.append(contentsOf: $0) } }
            default: break
            }
        }
        pending.append(Pending(name: name, dtype: dtype, shape: tensor.shape, bytes: data))
    }

    /// Adds an integer tensor (I64, I32, I16, I8, U8 or BOOL).
    public mutating func add(_ name: String, integers: [Int64], shape: [Int], as dtype: SafeTensorsDType = .i64) {
        precondition(!dtype.isFloatingPoint, "[safetensors] \(dtype.rawValue) is floating point; use add(_:_:as:)")
        precondition(integers.count == shape.reduce(1, *), "[safetensors] \(integers.count) values do not fill shape \(shape)")
        var data = Data(capacity: integers.count * dtype.size)
        for v in integers {
            switch dtype {
            case .i64: withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
            case .i32: withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) }
            case .i16: withUnsafeBytes(of: Int16(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) }
            case .i8: data.append(UInt8(bitPattern: Int8(truncatingIfNeeded: v)))
            default: data.append(UInt8(truncatingIfNeeded: v))
            }
        }
        pending.append(Pending(name: name, dtype: dtype, shape: shape, bytes: data))
    }

    /// The complete file contents.
    public func serialized() -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for p in pending {
            header[p.name] = ["dtype": p.dtype.rawValue, "shape": p.shape, "data_offsets": [offset, offset + p.bytes.count]] as [String: Any]
            offset += p.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var file = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for p in pending { file.append(p.bytes) }
        return file
    }

    /// Writes the file atomically (temporary file, fsync, rename).
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(serialized(), to: url)
        } catch {
            throw SafeTensorsError(.cannotWrite, path: url.path, "cannot write: \(error.localizedDescription)")
        }
    }
}
