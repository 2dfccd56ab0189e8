// When a row-wise kernel writes its output past the caches.
//
// An ordinary store first reads the line it writes (a read for ownership), so writing y costs
// 8 bytes of memory traffic an element, not 4. A streaming store (lian_stream16) skips that read
// and leaves the caches alone; it pays off for outputs far beyond L2, which would be read from
// memory before being written and would not stay cached anyway, and only together with a
// software prefetch of the next row of x (alone, neither gained anything: the hardware
// prefetcher stops at each 4 KiB page, and the reads for ownership crowded out the loads).
// Softmax forward, 43,690 × 768, two threads: 13.6 → 8.3 ms.

public enum StreamingStores {
    /// Outputs of at least this many floats (32 MiB) are streamed. Softmax forward, streamed
    /// against plain, two threads: 0.82–0.89 of the time at 34 MB, 0.59–0.72 at 67–134 MB.
    public static let minimumFloats = 1 << 23

    /// Whether a rows × cols output at `y` is streamed when `streaming` is nil (decide by size):
    /// at least `minimumFloats`, and (when `alignedRows`) every row starting on 64 bytes, for
    /// kernels that stream whole rows without an unaligned head.
    @inline(__always)
    static func suits(_ streaming: Bool?, rows: Int, cols: Int, y: UnsafeMutablePointer<Float>, alignedRows: Bool) -> Bool {
        if alignedRows && (cols % 16 != 0 || Int(bitPattern: y) & 63 != 0) { return false }
        return streaming ?? (rows * cols >= minimumFloats)
    }
}
