import Foundation
import LianKernelsC

/// A cache of freed float buffers, by exact (rounded) size.
///
/// A training step allocates the same activation and gradient sizes every step. Handing those
/// buffers back to the system and asking again costs page faults and the kernel zeroing every
/// page (several milliseconds a step for a small model); keeping them here costs nothing. The
/// cache holds at most `limitBytes` (default 25% of physical memory, `LIAN_BUFFER_CACHE_MB`
/// overrides); beyond that buffers go back to the system.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    public let limitBytes: Int

    /// Buffers below this many floats come straight from malloc, which is fast for them.
    static let minimumPooled = 4096

    init() {
        if let mb = ProcessInfo.processInfo.environment["LIAN_BUFFER_CACHE_MB"].flatMap({ Int($0) }) {
            limitBytes = max(0, mb) << 20
        } else {
            limitBytes = Int(ProcessInfo.processInfo.physicalMemory / 4)
        }
    }

    /// Sizes are rounded up to 1/8 of their power of two, so that near sizes share buckets.
    static func bucket(_ count: Int) -> Int {
        if count <= minimumPooled { return count }
        let high = Int.bitWidth - count.leadingZeroBitCount - 1   // floor(log2 count)
        let step = 1 << max(0, high - 3)
        return (count + step - 1) / step * step
    }

    /// A 64-byte-aligned buffer of at least `count` floats; returns it and the capacity to give back.
    public func take(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let size = Self.bucket(max(1, count))
        if size > Self.minimumPooled {
            lock.lock()
            // Popped in place: copying the list out of the dictionary and back would copy it.
            if let p = free[size]?.popLast() {
                cachedBytes -= size * 4
                lock.unlock()
                return (p, size)
            }
            lock.unlock()
        }
        return (allocateFloats(size), size)
    }

    /// Returns a buffer obtained from `take`.
    public func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        if capacity > Self.minimumPooled {
            lock.lock()
            if cachedBytes + capacity * 4 <= limitBytes {
                free[capacity, default: []].append(pointer)
                cachedBytes += capacity * 4
                lock.unlock()
                return
            }
            lock.unlock()
        }
        deallocateFloats(pointer)
    }

    /// Releases every cached buffer to the system.
    public func trim() {
        lock.lock()
        let all = free.values.flatMap { $0 }
        free = [:]
        cachedBytes = 0
        lock.unlock()
        for p in all { deallocateFloats(p) }
    }
}

/// Process memory housekeeping.
public enum SystemMemory {
    /// Hands freed memory back to the system — the buffer pool's cache and glibc's free heap —
    /// after dropping large tensors for good, as quantizing a model does.
    public static func releaseFreed() {
        BufferPool.shared.trim()
        _ = lian_release_free_memory()
    }
}
