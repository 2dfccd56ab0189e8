import Foundation

/// A PyTorch script run as a peer process that prints one JSON object as its last line of output.
/// With `alternating`, the script takes turns with Lian (Scripts/bench/torch_train_loop.py
/// --alternate): it prints "turn" whenever it waits, and goes on for one step per byte it reads
/// from stdin; at end of input it runs on alone.
///
/// Each turn starts on a settled machine: a side's idle threads spin for a while before they
/// sleep (PyTorch's OpenMP worker used ~8 ms of CPU after each of its steps, measured with
/// `time.process_time()` across a sleep; Lian's workers ~1 ms), and on two cores that spinning
/// would be charged to the other side's next step. So each hand-over waits `settleSeconds`
/// first, on neither side's clock.
final class TorchPeer {
    /// The pause at each hand-over, longer than either side's idle threads spin.
    static let settleSeconds = 0.02

    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var lastJSON: String?
    /// Whether the script is still taking turns (it stops when it has finished its steps).
    private(set) var alternating: Bool

    /// Starts `python3 script arguments` from the package root; nil when it cannot be started.
    init?(script: String, arguments: [String], alternating: Bool) {
        guard FileManager.default.fileExists(atPath: script) else { return nil }
        // A peer that dies must not take Lian with it when Lian next writes to its input.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        self.alternating = alternating
        do { try process.run() } catch { return nil }
    }

    /// Waits until the script takes its first turn (its own setup done). False when it ended
    /// instead (no PyTorch, an error it printed).
    func awaitFirstTurn() -> Bool {
        guard alternating else { return true }
        return readUntilTurn()
    }

    /// Lets the script run one step, and waits until it has. False once it has finished.
    @discardableResult
    func takeTurn() -> Bool {
        guard alternating else { return false }
        Thread.sleep(forTimeInterval: Self.settleSeconds)
        do { try input.fileHandleForWriting.write(contentsOf: Data([0x2E])) } catch { alternating = false; return false }
        return readUntilTurn()
    }

    /// Lets the script run on alone to its end, and returns its JSON object (nil when it failed).
    func finish() -> [String: Any]? {
        alternating = false
        try? input.fileHandleForWriting.close()
        while let line = readLine() { if line.hasPrefix("{") { lastJSON = line } }
        process.waitUntilExit()
        guard process.terminationStatus == 0, let json = lastJSON,
              let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        return object
    }

    private func readUntilTurn() -> Bool {
        while let line = readLine() {
            if line == "turn" { Thread.sleep(forTimeInterval: Self.settleSeconds); return true }
            if line.hasPrefix("{") { lastJSON = line; break }
        }
        alternating = false
        return false
    }

    /// One line of the script's output, without its newline; nil at the end of its output.
    private func readLine() -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        let fd = output.fileHandleForReading.fileDescriptor
        while true {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
