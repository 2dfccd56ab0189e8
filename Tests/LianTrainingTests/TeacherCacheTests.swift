import Foundation
import LianData
import LianNN
import LianTensor
import LianTraining
import Testing

@Suite struct TeacherCacheTests {
    /// The distillation loss from the cached top-k equals the loss from the live teacher's top-k.
    @Test func cachedPredictionsGiveTheLiveTeachersLoss() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-kd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shardURL = directory.appendingPathComponent("train.bin")
        let writer = try TokenShardWriter(url: shardURL, vocabularySize: 64, eos: 0)
        for d in 0..<20 { try writer.append(document: (0..<(7 + d % 5)).map { Int32(1 + ($0 * 11 + d * 3) % 63) }) }
        try writer.finish()
        let shard = try TokenShard(url: shardURL)
        let teacher = try GPT2(GPT2Config(vocabSize: 64, contextLength: 16, width: 32, layers: 2, heads: 4), seed: 3)
        let student = try GPT2(GPT2Config(vocabSize: 64, contextLength: 16, width: 16, layers: 1, heads: 2), seed: 4)
        let cacheURL = directory.appendingPathComponent("teacher.safetensors")
        try TeacherCache.build(teacher: teacher, shard: shard, context: 16, k: 8, batch: 3, to: cacheURL)
        let cache = try TeacherCache(url: cacheURL)
        #expect(cache.windows == (shard.count - 1) / 16 && cache.k == 8 && cache.context == 16)
        for window in [0, cache.windows - 1] {
            let x = (0..<16).map { shard[window * 16 + $0] }, y = (0..<16).map { shard[window * 16 + $0 + 1] }
            let live = TeacherPredictions.topK(withNoGrad { teacher(IndexTensor(shape: [1, 16], values: x)) }, k: 8)
            let cached = try cache.predictions(window: window)
            #expect(cached.ids == live.ids && cached.logits == live.logits)
            let logits = withNoGrad { student(IndexTensor(shape: [1, 16], values: x)) }
            let targets = IndexTensor(shape: [16], values: y)
            let a = Tensor.distillationLoss(student: logits, teacher: live, targets: targets, temperature: 2, alpha: 0.5, divergence: .forward)
            let b = Tensor.distillationLoss(student: logits, teacher: cached, targets: targets, temperature: 2, alpha: 0.5, divergence: .forward)
            #expect(a.item == b.item)
        }
        // Something that is not a cache is refused with its name.
        #expect { try TeacherCache(url: shardURL) } throws: { _ in true }
    }
}
