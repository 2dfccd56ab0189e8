import Foundation
import LianData
import LianNN
import LianTensor

/// A teacher's top-k next-token predictions for every position of a token shard, computed once
/// (so a big teacher runs once over the data) and read back by distillation.
///
/// The shard is cut into windows of `context` tokens: window w reads tokens [w·T, w·T + T) and
/// predicts tokens [w·T + 1, w·T + T]. The file is safetensors: `ids` I32 and `logits` F32, both
/// [windows, T, k], with the settings in the metadata; it is memory-mapped, never loaded whole.
public final class TeacherCache {
    public let url: URL
    public let windows: Int, context: Int, k: Int
    let file: SafeTensorsFile

    public init(url: URL) throws {
        self.url = url
        file = try SafeTensorsFile(url: url)
        guard let context = file.metadata["context"].flatMap(Int.init), let k = file.metadata["k"].flatMap(Int.init),
              let windows = file.metadata["windows"].flatMap(Int.init) else {
            throw TrainingError(path: url.path, "is not a Lian teacher cache (its metadata lacks context, k or windows)")
        }
        let ids = try file.entry("ids"), logits = try file.entry("logits")
        guard ids.shape == [windows, context, k], logits.shape == [windows, context, k], ids.dtype == .i32, logits.dtype == .f32 else {
            throw TrainingError(path: url.path, "holds ids \(ids.shape) and logits \(logits.shape), not [\(windows), \(context), \(k)] I32/F32")
        }
        self.context = context; self.k = k; self.windows = windows
    }

    /// Runs `teacher` over every whole window of `shard` (batches of `batch` windows, no gradients)
    /// and writes the top-k predictions to `url`. `progress` gets windows done.
    public static func build(teacher: any LanguageModel, shard: TokenShard, context: Int, k: Int, batch: Int = 8,
                             to url: URL, progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard context <= teacher.contextLength else {
            throw TrainingError(path: url.path, "context \(context) exceeds the teacher's \(teacher.contextLength)")
        }
        let windows = (shard.count - 1) / context
        guard windows > 0 else { throw TrainingError(path: shard.path, "has fewer than \(context + 1) tokens") }
        var ids = [Int64](), logits = [Float]()
        ids.reserveCapacity(windows * context * k); logits.reserveCapacity(windows * context * k)
        for start in stride(from: 0, to: windows, by: batch) {
            let n = min(batch, windows - start)
            var x = [Int32]()
            for w in start..<(start + n) { for t in 0..<context { x.append(shard[w * context + t]) } }
            let out = withNoGrad { teacher(IndexTensor(shape: [n, context], values: x)) }
            let top = TeacherPredictions.topK(out, k: k)
            ids += top.ids.map(Int64.init); logits += top.logits
            progress(start + n, windows)
        }
        let kk = min(k, teacher.vocabularySize)
        var writer = SafeTensorsWriter(metadata: ["format": "lian-teacher-cache", "context": String(context), "k": String(kk),
                                                  "windows": String(windows), "vocab": String(teacher.vocabularySize)])
        writer.add("ids", integers: ids, shape: [windows, context, kk], as: .i32)
        writer.add("logits", Tensor(shape: [windows, context, kk], values: logits))
        try writer.write(to: url)
    }

    /// The cached predictions for `window` ([T, k]).
    public func predictions(window: Int) throws -> TeacherPredictions {
        precondition(window >= 0 && window < windows, "[teacher-cache] window \(window) outside 0..<\(windows)")
        let per = context * k
        let rawIDs = try file.rawBytes("ids"), rawLogits = try file.rawBytes("logits")
        var ids = [Int32](repeating: 0, count: per), logits = [Float](repeating: 0, count: per)
        ids.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: rawIDs[(window * per * 4)..<((window + 1) * per * 4)])) }
        logits.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: rawLogits[(window * per * 4)..<((window + 1) * per * 4)])) }
        return TeacherPredictions(ids: ids, logits: logits, k: k)
    }
}
