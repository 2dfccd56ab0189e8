/// One document of the corpus, with where it came from (kept through every stage, so that a
/// rejected or duplicate document can be traced back to its file and line).
public struct Document: Sendable, Equatable {
    public var text: String
    public let source: String
    /// The 1-based line where the document starts in its file.
    public let line: Int

    public init(text: String, source: String, line: Int) {
        self.text = text; self.source = source; self.line = line
    }

    public var location: String { "\(source):\(line)" }
}
