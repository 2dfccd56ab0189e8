import Foundation
@testable import LianData
import Testing

@Suite struct WorkFileTests {
    /// Records come back as written (text, source, line, signature), across the reader's 4 MiB
    /// blocks; a truncated file is an error that names it, not a silent short read.
    @Test func recordsRoundTripAndTruncationIsAnError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-work-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        defer { try? FileManager.default.removeItem(at: url) }
        let sources = ["a.jsonl", "b.jsonl"]
        let writer = try WorkFileWriter(url)
        var expected: [(text: String, source: Int, line: Int, signature: [UInt32])] = []
        for i in 0..<3000 {
            let text = i % 7 == 0 ? String(repeating: "长文本 long text ", count: 200 + i) : "文档 \(i) 😀"
            expected.append((text, i % 2, i + 1, i % 3 == 0 ? [UInt32(i), .max] : []))
        }
        // Written in batches of different sizes, one item in eleven skipped (nil).
        let items = expected
        var written: [(text: String, source: Int, line: Int, signature: [UInt32])] = []
        for batch in [0..<1, 1..<700, 700..<701, 701..<3000] {
            try writer.write(count: batch.count) { i in (batch.lowerBound + i) % 11 == 5 ? nil : items[batch.lowerBound + i] }
            written += batch.filter { $0 % 11 != 5 }.map { items[$0] }
        }
        expected = written
        try writer.close()
        var documents: [Document] = [], signatures: [[UInt32]] = []
        try WorkFileReader(url: url, sources: sources).forEachBatch(size: 1000) { documents += $0; signatures += $1 }
        #expect(documents.count == expected.count && signatures.count == expected.count)
        for (k, e) in expected.enumerated() {
            #expect(documents[k] == Document(text: e.text, source: sources[e.source], line: e.line) && signatures[k] == e.signature)
        }

        let data = try Data(contentsOf: url)
        try data.dropLast(3).write(to: url)
        do {
            try WorkFileReader(url: url, sources: sources).forEachBatch { _, _ in }
            Issue.record("a truncated work file was read without an error")
        } catch let error as DataError {
            #expect(error.path == url.path)
        }
    }
}
