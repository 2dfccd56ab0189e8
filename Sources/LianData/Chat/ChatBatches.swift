import LianKernels

/// Fine-tuning examples packed into rows of `context + 1` tokens and served as (B, T) batches with
/// targets: the next token where the model is trained on it, −100 (ignored by the loss) elsewhere —
/// so prompts, headers and padding add nothing to the loss or the gradients.
///
/// Packing is greedy over the examples in order (shuffle them first): whole examples share a row
/// while they fit (they may attend to the examples before them in the row, as TRL's packing
/// does); an example longer than a row is cut to the row (counted in `truncated`); rows end with
/// padding. Batches draw rows in a seeded order that is reshuffled every epoch; the position can be
/// saved and restored exactly.
public final class ChatBatches {
    public let context: Int, batchSize: Int
    /// [rows][context + 1]
    public let rows: [[Int32]]
    let trained: [[Bool]]
    public private(set) var truncated = 0
    public private(set) var trainedTokens = 0

    public struct Position: Codable, Equatable, Sendable {
        public var epoch = 0
        public var index = 0
        public var rng: SeededRandom
        public var order: [Int]
    }
    public private(set) var position: Position

    public init(_ encoded: [(ids: [Int32], trained: [Bool])], context: Int, batchSize: Int, padding: Int32, seed: UInt64) {
        self.context = context; self.batchSize = batchSize
        let width = context + 1
        var rows: [[Int32]] = [], masks: [[Bool]] = []
        var row: [Int32] = [], mask: [Bool] = []
        func flush() {
            guard !row.isEmpty else { return }
            let pad = width - row.count
            rows.append(row + Array(repeating: padding, count: pad)); masks.append(mask + Array(repeating: false, count: pad))
            row = []; mask = []
        }
        var cut = 0
        for (ids, learn) in encoded where !ids.isEmpty {
            var ids = ids, learn = learn
            if ids.count > width { ids = Array(ids.prefix(width)); learn = Array(learn.prefix(width)); cut += 1 }
            if row.count + ids.count > width { flush() }
            row += ids; mask += learn
        }
        flush()
        self.rows = rows; trained = masks; truncated = cut
        trainedTokens = masks.reduce(0) { $0 + $1.dropFirst().filter { $0 }.count }
        var rng = SeededRandom(seed: seed)
        let order = Self.shuffled(rows.count, &rng)
        position = Position(rng: rng, order: order)
    }

    static func shuffled(_ n: Int, _ rng: inout SeededRandom) -> [Int] {
        var order = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) } }
        return order
    }

    /// Inputs and targets of row `r`.
    public func example(_ r: Int) -> (inputs: [Int32], targets: [Int32]) {
        let row = rows[r], mask = trained[r]
        let inputs = Array(row[..<context])
        let targets = (1...context).map { mask[$0] ? row[$0] : -100 }
        return (inputs, targets)
    }

    /// The next batch in the shuffled order (a new epoch reshuffles).
    public func next() -> (inputs: [Int32], targets: [Int32]) {
        var inputs: [Int32] = [], targets: [Int32] = []
        for _ in 0..<batchSize {
            if position.index == position.order.count {
                position.epoch += 1; position.index = 0
                position.order = Self.shuffled(rows.count, &position.rng)
            }
            let (x, y) = example(position.order[position.index])
            inputs += x; targets += y
            position.index += 1
        }
        return (inputs, targets)
    }

    public func restore(_ p: Position) { position = p }

    /// Epochs completed so far, fractional.
    public var epochs: Double { Double(position.epoch) + Double(position.index) / Double(max(1, rows.count)) }
}
