import Foundation
import LianData
import Testing

@Suite final class TokenShardTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-shards-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()
    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, vocab: Int, documents: [[Int32]]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        let writer = try TokenShardWriter(url: url, vocabularySize: vocab, eos: 0)
        for d in documents { try writer.append(document: d) }
        try writer.finish()
        return url
    }

    @Test(arguments: [500, 70_000])
    func roundTripWithEOSBetweenDocuments(vocab: Int) throws {
        let docs: [[Int32]] = [[5, 6, 7], [], [Int32(vocab - 1), 1]]
        let shard = try TokenShard(url: write("rt-\(vocab).bin", vocab: vocab, documents: docs))
        #expect(shard.width == (vocab <= 65_536 ? 2 : 4))
        #expect(shard.vocabularySize == vocab)
        #expect((0..<shard.count).map { shard[$0] } == [5, 6, 7, 0, 0, Int32(vocab - 1), 1, 0])
    }

    /// Documents around and beyond the writer's 1 MiB buffer (one of them alone larger than it),
    /// in both token widths.
    @Test(arguments: [500, 70_000])
    func documentsLargerThanTheBufferRoundTrip(vocab: Int) throws {
        let docs: [[Int32]] = [300_000, 5, 600_000, 1].map { n in (0..<n).map { Int32(($0 * 7 + 1) % (vocab - 1) + 1) } }
        let shard = try TokenShard(url: write("big-\(vocab).bin", vocab: vocab, documents: docs))
        let expected: [Int32] = docs.flatMap { $0 + [Int32(0)] }
        #expect(shard.count == expected.count)
        #expect((0..<shard.count).allSatisfy { shard[$0] == expected[$0] })
    }

    @Test func badShardsNameTheFile() throws {
        let good = try Data(contentsOf: write("good.bin", vocab: 100, documents: [[1, 2, 3, 4]]))
        for (name, bytes, words) in [
            ("truncated.bin", good.prefix(good.count - 1), ["truncated"]),
            ("tiny.bin", good.prefix(10), ["shorter"]),
            ("magic.bin", Data("NOTLIAN!".utf8) + good.dropFirst(8), ["magic"]),
            ("version.bin", good.prefix(8) + Data([9, 0, 0, 0]) + good.dropFirst(12), ["version 9"]),
        ] as [(String, Data, [String])] {
            let url = directory.appendingPathComponent(name)
            try bytes.write(to: url)
            do {
                _ = try TokenShard(url: url)
                Issue.record("\(name): no error")
            } catch let error as DataError {
                #expect(error.description.contains(url.path))
                for w in words { #expect(error.description.contains(w), "\(name): \(error)") }
            }
        }
        #expect(throws: DataError.self) { try TokenShardWriter(url: directory.appendingPathComponent("x.bin"), vocabularySize: 10, eos: 0).append(document: [10]) }
    }

    @Test func loaderIsSeededAndResumesExactly() throws {
        let a = try TokenShard(url: write("a.bin", vocab: 1000, documents: (0..<50).map { d in (0..<20).map { Int32((d * 20 + $0) % 999 + 1) } }))
        let b = try TokenShard(url: write("b.bin", vocab: 1000, documents: [Array(1...300)]))
        let loader = try BatchLoader(shards: [a, b], batchSize: 3, context: 8, seed: 7)
        var uninterrupted: [[Int32]] = []
        for _ in 0..<10 { uninterrupted.append(loader.next().inputs) }

        let first = try BatchLoader(shards: [a, b], batchSize: 3, context: 8, seed: 7)
        var resumed: [[Int32]] = []
        for _ in 0..<4 { resumed.append(first.next().inputs) }
        let saved = try JSONEncoder().encode(first.position)
        let second = try BatchLoader(shards: [a, b], batchSize: 3, context: 8, seed: 999)
        second.restore(try JSONDecoder().decode(BatchLoader.Position.self, from: saved))
        for _ in 4..<10 { resumed.append(second.next().inputs) }
        #expect(resumed == uninterrupted)

        // Targets are the inputs shifted by one token.
        let fresh = try BatchLoader(shards: [b], batchSize: 2, context: 5, seed: 1)
        let (x, y) = fresh.next()
        for row in 0..<2 { #expect(Array(x[(row * 5 + 1)..<(row * 5 + 5)]) == Array(y[(row * 5)..<(row * 5 + 4)])) }
    }
}
