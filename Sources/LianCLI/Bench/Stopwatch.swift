import Foundation

/// Wall-clock timing for benchmarks: runs a body once to warm up, then repeatedly until `seconds`
/// have passed, and reports the best (least disturbed) time of one run.
enum Stopwatch {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func bestTime(seconds: Double, minRuns: Int = 3, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        let start = now()
        var runs = 0
        while runs < minRuns || now() - start < seconds {
            let t0 = now()
            body()
            best = min(best, now() - t0)
            runs += 1
        }
        return best
    }

    /// Best times of two bodies run alternately (a, b, a, b, ...), so that both see the same
    /// machine: on a shared machine the background load drifts, and timing one body after the
    /// other would credit the drift to one of them.
    static func bestTimes(seconds: Double, minRuns: Int = 3, _ a: () -> Void, _ b: () -> Void) -> (Double, Double) {
        a(); b()
        var bestA = Double.infinity, bestB = Double.infinity
        let start = now()
        var runs = 0
        while runs < minRuns || now() - start < 2 * seconds {
            var t0 = now()
            a()
            bestA = min(bestA, now() - t0)
            t0 = now()
            b()
            bestB = min(bestB, now() - t0)
            runs += 1
        }
        return (bestA, bestB)
    }
}
