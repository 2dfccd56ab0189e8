import Foundation
import LianTestSupport
import LianTokenizer
import Testing

/// Every case in ../shared/oracles/tokenizers/NAME/cases.jsonl encodes to exactly the given ids
/// with that folder's tokenizer.json (as tiktoken and Hugging Face tokenizers give them), and
/// decodes back to the text.
@Suite struct OracleCasesTests {
    static var folders: [URL] {
        guard let shared = SharedFolder.locate() else { return [] }
        let root = shared.appendingPathComponent("oracles/tokenizers")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("cases.jsonl").path)
        }
    }

    struct Case: Decodable { let text: String; let ids: [Int32] }

    @Test(arguments: folders)
    func encodesEveryCaseExactly(folder: URL) throws {
        let tokenizer = try BPETokenizer(contentsOf: folder.appendingPathComponent("tokenizer.json"))
        let lines = try String(contentsOf: folder.appendingPathComponent("cases.jsonl"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count > 100)
        var failures = 0
        for (n, line) in lines.enumerated() {
            let c = try JSONDecoder().decode(Case.self, from: Data(line.utf8))
            let ids = tokenizer.encode(c.text)
            if ids != c.ids {
                failures += 1
                if failures <= 5 {
                    let chunks = tokenizer.preTokenizer.split(c.text).map { String($0).debugDescription }
                    Issue.record("\(folder.lastPathComponent) case \(n) \(c.text.debugDescription): got \(ids), expected \(c.ids); chunks \(chunks.prefix(12))")
                }
            }
            #expect(tokenizer.decodeBytes(c.ids) == Array(c.text.utf8), "\(folder.lastPathComponent) case \(n) does not decode back")
            #expect(tokenizer.decode(c.ids) == c.text)
        }
        #expect(failures == 0, "\(folder.lastPathComponent): \(failures) of \(lines.count) cases differ")
    }
}
