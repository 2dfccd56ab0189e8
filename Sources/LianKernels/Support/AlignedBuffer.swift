import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Allocates `count` floats aligned to 64 bytes (one cache line, one AVX-512 vector); free them
/// with `deallocateFloats`. On Linux a buffer of 2 MiB or more starts on a 2 MiB boundary, and the
/// kernel is asked to back its whole 2 MiB pages with transparent huge pages (where THP is set to
/// `madvise` or `always`): the kernels stream through activations megabytes long, and strided
/// walks (the packing of a transposed operand, the rows of a wide matrix) touch a new 4 KiB page
/// on nearly every row. The tail past the last whole huge page stays in small pages, so the
/// resident size does not grow.
public func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    let bytes = max(1, count) * MemoryLayout<Float>.stride
    #if canImport(Glibc)
    let hugePage = 2 << 20
    var start: UnsafeMutableRawPointer?
    guard posix_memalign(&start, bytes >= hugePage ? hugePage : 64, bytes) == 0, let start else {
        fatalError("[allocateFloats] out of memory: \(bytes) bytes")
    }
    if bytes >= hugePage { _ = madvise(start, bytes / hugePage * hugePage, MADV_HUGEPAGE) }
    return start.bindMemory(to: Float.self, capacity: max(1, count))
    #else
    return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: max(1, count))
    #endif
}

/// Frees a buffer that `allocateFloats` returned.
public func deallocateFloats(_ pointer: UnsafeMutablePointer<Float>) {
    #if canImport(Glibc)
    free(pointer)
    #else
    pointer.deallocate()
    #endif
}
