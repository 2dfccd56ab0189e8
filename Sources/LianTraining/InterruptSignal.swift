import Dispatch
import Foundation
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM as a request to stop: the first one raises a flag that the training
/// loop reads after each step (it then writes a checkpoint and returns); a second one exits at once
/// (checkpoints are written to a temporary folder and renamed, so an exit mid-write loses nothing
/// but that checkpoint).
public enum InterruptSignal {
    private static let raised = Atomic<Bool>(false)
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let installLock = Mutex<Bool>(false)

    /// Whether a stop was requested since `install()`.
    public static var isRaised: Bool { raised.load(ordering: .relaxed) }

    /// Routes SIGINT and SIGTERM to the flag (idempotent). `onFirst` runs once, off the main thread,
    /// when the first signal arrives (to print "stopping after this step…").
    public static func install(onFirst: @escaping @Sendable () -> Void = {}) {
        let installed = installLock.withLock { done -> Bool in
            defer { done = true }
            return done
        }
        guard !installed else { return }
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if raised.exchange(true, ordering: .relaxed) {
                    FileHandle.standardError.write(Data("\nsecond interrupt: exiting now\n".utf8))
                    exit(130)
                }
                onFirst()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// For tests: raise or clear the flag without a signal.
    public static func set(_ value: Bool) { raised.store(value, ordering: .relaxed) }
}
