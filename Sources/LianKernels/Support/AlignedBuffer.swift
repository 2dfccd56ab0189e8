/// Allocates `count` floats aligned to 64 bytes (one cache line, one AVX-512 vector).
@inlinable
public func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
    return raw.bindMemory(to: Float.self, capacity: max(1, count))
}
