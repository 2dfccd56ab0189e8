import Foundation
import LianKernels
import Synchronization
import Testing

/// The worker pool under parallelFor: every iteration runs exactly once, regions run back to
/// back, nested regions run serially, and regions from several threads at once are safe.
@Suite struct ParallelTests {
    final class Counts: @unchecked Sendable {
        let values: UnsafeMutablePointer<Int>
        let count: Int
        init(_ count: Int) {
            self.count = count
            values = .allocate(capacity: count)
            values.initialize(repeating: 0, count: count)
        }
        deinit { values.deallocate() }
    }

    @Test func everyIterationRunsOnce() {
        for count in [2, 3, 17, 1000] {
            for _ in 0..<200 {
                let counts = Counts(count)
                parallelFor(count) { i in counts.values[i] += 1 }
                #expect((0..<count).allSatisfy { counts.values[$0] == 1 }, "count \(count)")
            }
        }
    }

    /// The calling thread's wait at the end of a region is counted (Parallelism.waitedSeconds):
    /// iterations off the caller take 20 ms, the caller's none, so a region whose second
    /// iteration ran on another thread adds at least ~20 ms. (Where the caller ran both, or other
    /// tests' regions ran beside this one, it may add nothing: such a region is not counted.)
    @Test func callersWaitIsCounted() {
        guard Parallelism.threadCount > 1 else { return }
        let caller = pthread_self()
        for _ in 0..<5 {
            let offCaller = Atomic<Int>(0)
            let before = Parallelism.waitedSeconds
            parallelFor(2) { _ in
                if pthread_equal(pthread_self(), caller) == 0 {
                    offCaller.add(1, ordering: .relaxed)
                    usleep(20_000)
                }
            }
            let waited = Parallelism.waitedSeconds - before
            if offCaller.load(ordering: .relaxed) > 0 {
                #expect(waited >= 0.015, "waited \(waited) s")
                return
            }
        }
    }

    @Test func nestedRegionsRunSerially() {
        let total = Atomic<Int>(0)
        parallelFor(8) { _ in
            parallelFor(8) { _ in total.add(1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 64)
    }

    @Test func regionsFromSeveralThreadsAtOnce() async {
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let total = Atomic<Int>(0)
                    for _ in 0..<100 { parallelFor(10) { i in total.add(i, ordering: .relaxed) } }
                    return total.load(ordering: .relaxed)
                }
            }
            for await sum in group { #expect(sum == 100 * 45) }
        }
    }

    @Test func chunksCoverTheRangeExactly() {
        for total in [1, 5, 100, 12_345] {
            let counts = Counts(total)
            parallelChunks(total, minChunk: 3) { range in for i in range { counts.values[i] += 1 } }
            #expect((0..<total).allSatisfy { counts.values[$0] == 1 }, "total \(total)")
        }
    }
}
