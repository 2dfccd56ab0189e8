import Foundation
import LianKernels

/// Random training windows from token shards: each batch is B windows of T + 1 consecutive tokens
/// (inputs are the first T, targets the last T), each window drawn uniformly from all shards.
/// Seeded; its position (the generator state and the batch count) is a small Codable value that a
/// checkpoint saves, so a resumed run draws exactly the batches the uninterrupted run would have.
public final class BatchLoader {
    public struct Position: Codable, Equatable, Sendable {
        public var rng: SeededRandom
        public var batches: Int
    }

    public let shards: [TokenShard]
    public let batchSize: Int, context: Int
    /// Windows start at multiples of this (1: anywhere; `context`: the aligned windows a teacher
    /// cache holds).
    public let stride: Int
    public private(set) var position: Position
    /// Start positions available per shard (windows never cross a shard boundary).
    private let windows: [Int]
    private let totalWindows: Int
    /// (shard, window index) of each row of the last batch.
    public private(set) var lastWindows: [(shard: Int, window: Int)] = []

    public init(shards: [TokenShard], batchSize: Int, context: Int, seed: UInt64, stride: Int = 1) throws {
        guard let first = shards.first else { throw DataError(path: "(no shards)", "the loader needs at least one shard") }
        for s in shards where s.vocabularySize != first.vocabularySize {
            throw DataError(path: s.path, "vocabulary size \(s.vocabularySize) differs from \(first.path)'s \(first.vocabularySize)")
        }
        self.shards = shards
        self.batchSize = batchSize
        self.context = context
        self.stride = max(1, stride)
        windows = shards.map { $0.count > context ? ($0.count - context - 1) / max(1, stride) + 1 : 0 }
        totalWindows = windows.reduce(0, +)
        guard totalWindows > 0 else {
            throw DataError(path: shards.map(\.path).joined(separator: ", "), "hold fewer than context + 1 = \(context + 1) tokens")
        }
        position = Position(rng: SeededRandom(seed: seed), batches: 0)
    }

    /// Continues from a saved position.
    public func restore(_ saved: Position) { position = saved }

    /// The next (inputs, targets), each B × T token ids in row-major order.
    public func next() -> (inputs: [Int32], targets: [Int32]) {
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(batchSize * context); targets.reserveCapacity(batchSize * context)
        lastWindows.removeAll(keepingCapacity: true)
        for _ in 0..<batchSize {
            var w = Int(position.rng.next() % UInt64(totalWindows))
            var s = 0
            while w >= windows[s] { w -= windows[s]; s += 1 }
            let shard = shards[s]
            lastWindows.append((s, w))
            let start = w * stride
            for t in 0..<context {
                inputs.append(shard[start + t])
                targets.append(shard[start + t + 1])
            }
        }
        position.batches += 1
        return (inputs, targets)
    }
}
