import Foundation

/// A value computed on a thread of its own while the caller goes on; `value()` waits for it.
final class BackgroundValue<T>: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private var result: Result<T, Error>?

    init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            result = Result { try work() }
            finished.signal()
        }
        thread.start()
    }

    func value() throws -> T {
        finished.wait()
        finished.signal()   // later calls return at once
        return try result!.get()
    }
}
