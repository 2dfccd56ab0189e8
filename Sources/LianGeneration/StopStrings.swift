/// Trims generated text at the first stop string. Text is held back while it could still be the
/// start of a stop string, so nothing of a stop string is ever emitted; everything before it is.
/// Works on Unicode scalars, so held-back text never splits a character the decoder produced.
public struct StopStrings {
    let stops: [[Unicode.Scalar]]
    private var pending: [Unicode.Scalar] = []
    public private(set) var stopped = false

    public init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.unicodeScalars) }
    }

    /// Adds decoded text; returns the part that is safe to show now.
    public mutating func add(_ text: String) -> String {
        guard !stopped else { return "" }
        pending.append(contentsOf: text.unicodeScalars)
        // The earliest complete stop string ends the output.
        var cut: Int?
        for stop in stops {
            if let at = firstIndex(of: stop, in: pending), cut == nil || at < cut! { cut = at }
        }
        if let cut {
            stopped = true
            defer { pending = [] }
            return String(String.UnicodeScalarView(pending[..<cut]))
        }
        // Hold back the longest tail that is a proper prefix of some stop string.
        var hold = 0
        for stop in stops {
            for k in stride(from: min(stop.count - 1, pending.count), to: hold, by: -1)
            where pending.suffix(k).elementsEqual(stop.prefix(k)) {
                hold = k
                break
            }
        }
        let ready = String(String.UnicodeScalarView(pending.dropLast(hold)))
        pending.removeFirst(pending.count - hold)
        return ready
    }

    /// The text still held back (at the end of generation, when no stop string completed).
    public mutating func finish() -> String {
        defer { pending = [] }
        return stopped ? "" : String(String.UnicodeScalarView(pending))
    }

    func firstIndex(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}
