import LianKernels

/// The memory behind one or more tensors: a 64-byte-aligned Float buffer, or floats inside a
/// memory-mapped file. Tensors share a storage until one of them is written to (copy-on-write).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Keeps alive whatever owns `pointer` when it was not allocated here (a mapped file).
    private let owner: AnyObject?
    /// The pooled buffer's capacity, to give it back (0 when borrowed).
    private let capacity: Int

    /// Uninitialized storage for `count` floats, from the buffer pool.
    public init(count: Int) {
        let buffer = BufferPool.shared.take(count)
        pointer = buffer.pointer
        capacity = buffer.capacity
        self.count = count
        owner = nil
    }

    /// Storage that borrows memory owned by `owner` (released when this storage is).
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
        capacity = 0
    }

    deinit {
        if owner == nil { BufferPool.shared.give(pointer, capacity: capacity) }
    }
}
