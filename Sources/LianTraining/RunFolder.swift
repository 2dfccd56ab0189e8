import Foundation
import LianTensor

/// The files every training run keeps in its output folder: metrics.jsonl (one line per step),
/// checkpoint-STEP folders (the last k and the best kept), loss.svg.
enum RunFolder {
    static func appendMetric(_ metric: TrainingMetric, to out: String) throws {
        let url = URL(fileURLWithPath: out).appendingPathComponent("metrics.jsonl")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var line = try metricsEncoder().encode(metric)
        line.append(0x0A)
        if let handle = FileHandle(forWritingAtPath: url.path) {
            try handle.seekToEnd(); try handle.write(contentsOf: line); try handle.close()
        } else {
            try line.write(to: url)
        }
    }

    static func checkpointName(_ step: Int) -> String { String(format: "checkpoint-%08d", step) }

    /// Writes a checkpoint through `fill` into a temporary folder, then renames it into place, so
    /// an interrupted write never leaves a half checkpoint under the final name.
    static func writeCheckpoint(step: Int, out: String, _ fill: (URL) throws -> Void) throws -> URL {
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let final = outURL.appendingPathComponent(checkpointName(step))
        let temporary = outURL.appendingPathComponent(".\(checkpointName(step)).partial")
        try? FileManager.default.removeItem(at: temporary)
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        try fill(temporary)
        try? FileManager.default.removeItem(at: final)
        try FileManager.default.moveItem(at: temporary, to: final)
        return final
    }

    /// Keeps the newest `keep` checkpoints and the one with the lowest validation loss.
    static func pruneCheckpoints(in out: String, keep: Int, metrics: [TrainingMetric]) throws {
        let names = (try FileManager.default.contentsOfDirectory(atPath: out)).filter { $0.hasPrefix("checkpoint-") }.sorted()
        guard names.count > keep else { return }
        let best = metrics.filter { $0.validationLoss != nil }.min { $0.validationLoss! < $1.validationLoss! }.map { checkpointName($0.step) }
        for name in names.dropLast(keep) where name != best {
            try FileManager.default.removeItem(at: URL(fileURLWithPath: out).appendingPathComponent(name))
        }
    }

    static func writeState<T: Encodable>(_ state: T, to url: URL) throws {
        let encoder = metricsEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(state), to: url)
    }
}
