import Dispatch
import Foundation
import Synchronization

/// How many threads the kernels split work over. Defaults to the machine's active cores;
/// `LIAN_THREADS` in the environment overrides it (benchmarks set it to measure 1 vs 2 threads).
public enum Parallelism {
    nonisolated(unsafe) private static var _threadCount: Int = {
        if let text = ProcessInfo.processInfo.environment["LIAN_THREADS"], let n = Int(text), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// The number of threads `parallelFor` may use. Set it before starting work, not during.
    public static var threadCount: Int {
        get { _threadCount }
        set { _threadCount = max(1, newValue) }
    }

    /// Seconds, since the process started, that threads which opened a parallel region spent at
    /// its end waiting for the other threads: work split unevenly, or a thread that the machine
    /// stopped or started late. Read it before and after a piece of work.
    public static var waitedSeconds: Double {
        Double(WorkerPool.shared.waitedNanoseconds.load(ordering: .relaxed)) / 1e9
    }
}

/// Runs `body(i)` for `i` in `0..<count`, spread over up to `Parallelism.threadCount` threads.
///
/// The work runs on Lian's persistent worker threads (see WorkerPool), which stay awake for a
/// moment after each region so that many short regions in a row stay cheap. A region opened
/// inside another runs serially. Small jobs (`count == 1`) run inline on the calling thread.
public func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 0 { return }
    if count == 1 || Parallelism.threadCount == 1 {
        for i in 0..<count { body(i) }
        return
    }
    WorkerPool.shared.run(count, body)
}

/// Splits `0..<total` into at most `Parallelism.threadCount` contiguous chunks of at least
/// `minChunk` items and runs `body(range)` on each chunk in parallel.
public func parallelChunks(_ total: Int, minChunk: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
    if total <= 0 { return }
    let chunks = max(1, min(Parallelism.threadCount, total / max(1, minChunk)))
    if chunks == 1 { body(0..<total); return }
    parallelFor(chunks) { c in
        let start = total * c / chunks
        let end = total * (c + 1) / chunks
        if start < end { body(start..<end) }
    }
}

/// Runs `body(i)` for every `i` in `0..<count`, each thread taking the next item as it finishes
/// one (an atomic counter): for items of very different cost — documents of a corpus, where one
/// play outweighs a thousand reviews — that a split by count would leave one thread behind on.
public func parallelDynamic(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 0 { return }
    let threads = min(Parallelism.threadCount, count)
    if threads == 1 {
        for i in 0..<count { body(i) }
        return
    }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        let work: @Sendable (Int) -> Void = { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < count else { return }
                body(i)
            }
        }
        WorkerPool.shared.run(threads, work)
    }
}

/// A raw pointer that may cross into a `@Sendable` closure. The kernels guarantee that parallel
/// workers write disjoint ranges; this wrapper only states that promise to the compiler.
public struct SendablePointer<Pointee>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Pointee>
    @inlinable public init(_ base: UnsafeMutablePointer<Pointee>) { self.base = base }
    @inlinable public init(_ base: UnsafePointer<Pointee>) { self.base = UnsafeMutablePointer(mutating: base) }
}
