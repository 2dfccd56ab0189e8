import Foundation
import LianKernelsC
import Synchronization

/// Persistent worker threads for `parallelFor`.
///
/// A training step of a small model opens hundreds of parallel regions, many lasting well under a
/// millisecond. Waking a sleeping thread costs 20–50 µs each time, so workers here spin for about
/// a millisecond after a region (as OpenMP runtimes do) before they sleep on a condition variable.
/// The calling thread works on the region too; iterations are handed out one at a time from a
/// counter. A region opened from inside another runs serially on the calling thread.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: max(0, Parallelism.threadCount - 1))

    /// Pause instructions an idle worker spins through before it sleeps (about 1 ms).
    static let spinIterations = 20_000

    /// One parallel region. Workers may hold on to a finished region; its counter then hands out
    /// no more iterations, so its (by then dangling) body pointer is never called.
    final class Region: @unchecked Sendable {
        let count: Int
        let body: UnsafePointer<(Int) -> Void>
        let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        init(count: Int, body: UnsafePointer<(Int) -> Void>) { self.count = count; self.body = body }
    }

    /// Nanoseconds the calling threads of parallel regions have spent, once their own share was
    /// done, waiting for the other threads to finish theirs (`Parallelism.waitedSeconds`).
    let waitedNanoseconds = Atomic<UInt64>(0)

    private let generation = Atomic<Int>(0)
    private let started = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    private let currentLock = NSLock()
    private nonisolated(unsafe) var current: Region?
    /// Held by the thread that owns the workers for the current region.
    private let regionLock = NSLock()
    let workerCount: Int

    init(workers: Int) {
        workerCount = workers
        for _ in 0..<workers {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.stackSize = 4 << 20
            thread.start()
        }
        // Return only once every worker is waiting, so the first region is shared too.
        while started.load(ordering: .acquiring) < workers { lian_spin_pause() }
    }

    /// Runs body(0..<count) on the caller and the workers; returns when every iteration is done.
    func run(_ count: Int, _ body: (Int) -> Void) {
        if workerCount == 0 || ThreadRole.insideRegion || !regionLock.try() {
            for i in 0..<count { body(i) }
            return
        }
        defer { regionLock.unlock() }
        withoutActuallyEscaping(body) { escaping in
            withUnsafePointer(to: escaping) { pointer in
                let region = Region(count: count, body: pointer)
                currentLock.lock(); current = region; currentLock.unlock()
                generation.add(1, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    condition.lock(); condition.broadcast(); condition.unlock()
                }
                ThreadRole.insideRegion = true
                Self.work(region)
                ThreadRole.insideRegion = false
                if region.finished.load(ordering: .acquiring) < count {
                    // The caller's share is done and another thread's is not: time the wait.
                    let waitStart = DispatchTime.now().uptimeNanoseconds
                    while region.finished.load(ordering: .acquiring) < count { lian_spin_pause() }
                    waitedNanoseconds.add(DispatchTime.now().uptimeNanoseconds - waitStart, ordering: .relaxed)
                }
                currentLock.lock(); current = nil; currentLock.unlock()
            }
        }
    }

    /// Takes iterations of `region` until none are left.
    private static func work(_ region: Region) {
        while true {
            let i = region.next.add(1, ordering: .relaxed).oldValue
            if i >= region.count { return }
            invoke(region.body, i)
            region.finished.add(1, ordering: .releasing)
        }
    }

    /// Calls the body in its own frame, so that the copy of the closure is released before the
    /// iteration is counted as finished.
    @inline(never)
    private static func invoke(_ body: UnsafePointer<(Int) -> Void>, _ i: Int) { body.pointee(i) }

    private func workerLoop() {
        ThreadRole.insideRegion = true
        var seen = generation.load(ordering: .sequentiallyConsistent)
        started.add(1, ordering: .releasing)
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinIterations { lian_spin_pause(); continue }
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                condition.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            currentLock.lock(); let region = current; currentLock.unlock()
            if let region { Self.work(region) }
        }
    }
}

/// Whether this thread is running inside a parallel region (nested regions then run serially).
enum ThreadRole {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    static var insideRegion: Bool {
        get { pthread_getspecific(key) != nil }
        set { pthread_setspecific(key, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }
}
