import Foundation

/// A one-line progress display on standard error: what, how far, rate and ETA, redrawn at most
/// ten times a second, and finished with a newline.
final class ProgressLine {
    let label: String
    let start = Date()
    private var lastDraw = Date.distantPast

    init(_ label: String) { self.label = label }

    func update(_ done: Double, of total: Double?, unit: String, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? done / elapsed : 0
        var line = "\r\(label): \(Self.short(done)) \(unit)"
        if let total, total > 0 {
            line += " of \(Self.short(total)) (\(Int(100 * done / total))%)"
            if rate > 0 && done < total { line += ", ETA \(Self.duration((total - done) / rate))" }
        }
        line += ", \(Self.short(rate)) \(unit)/s, \(Self.duration(elapsed))   "
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish(_ message: String) {
        FileHandle.standardError.write(Data("\r\(label): \(message) in \(Self.duration(Date().timeIntervalSince(start)))\u{1B}[K\n".utf8))
    }

    static func short(_ x: Double) -> String {
        if x >= 1e9 { return String(format: "%.1fG", x / 1e9) }
        if x >= 1e6 { return String(format: "%.1fM", x / 1e6) }
        if x >= 1e4 { return String(format: "%.1fk", x / 1e3) }
        return String(format: "%.0f", x)
    }

    static func duration(_ s: Double) -> String {
        s < 60 ? String(format: "%.1fs", s) : String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60)
    }
}
