import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Allocates `count` floats aligned to 64 bytes (one cache line, one AVX-512 vector). A buffer of
/// 2 MiB or more starts on a 2 MiB boundary, and Linux is asked to back its whole 2 MiB pages with
/// transparent huge pages (where it is set to `madvise` or `always`): the kernels stream through
/// activations megabytes long, and strided walks (the packing of a transposed operand, rows of a
/// wide matrix) touch a new 4 KiB page on nearly every row.
public func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    let bytes = max(1, count) * MemoryLayout<Float>.stride
    #if os(Linux)
    let hugePage = 2 << 20
    if bytes >= hugePage {
        var start: UnsafeMutableRawPointer?
        if posix_memalign(&start, hugePage, bytes) == 0, let start {
            // Only the whole huge pages: the tail stays in small pages, so no memory is wasted.
            _ = madvise(start, bytes / hugePage * hugePage, MADV_HUGEPAGE)
            return start.bindMemory(to: Float.self, capacity: max(1, count))
        }
    }
    #endif
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    return raw.bindMemory(to: Float.self, capacity: max(1, count))
}
