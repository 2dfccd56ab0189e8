import Foundation
import LianKernels
import LianTokenizer

/// `lian data prepare`: read → clean → exact dedup → near dedup → split → tokenize to shards, with
/// a report of every stage. Rejected documents go to rejects.jsonl with their reason and source,
/// duplicate clusters to duplicates.jsonl; nothing disappears silently.
///
/// This version holds the documents in memory (fine for corpora of a few GB on a 24 GB machine);
/// bounded-memory streaming is not done yet.
public struct DataPipeline {
    public var reader = DocumentReader()
    public var cleaner = Cleaner()
    public var nearDuplicates: NearDuplicateFinder? = NearDuplicateFinder()
    public var validationFraction = 0.01
    public var seed: UInt64 = 1
    /// The special token written between documents.
    public var endOfText = "<|endoftext|>"
    /// Boilerplate: a line of at least `boilerplateMinimumLength` characters that occurs in at least
    /// `boilerplateMinimumDocuments` documents and in at least `boilerplateMinimumShare` of them
    /// (navigation, licence footers, "click for more") is removed from every document.
    public var boilerplateMinimumLength = 20
    public var boilerplateMinimumDocuments = 10
    public var boilerplateMinimumShare = 0.01

    public init() {}

    public struct StageCounts: Codable, Equatable {
        public var documents = 0, characters = 0
        mutating func add(_ text: String) { documents += 1; characters += text.unicodeScalars.count }
    }

    public struct Report: Codable {
        public var inputs: [String] = []
        public var read = StageCounts()
        public var cleaned = StageCounts()
        public var rejectedByReason: [String: Int] = [:]
        /// Distinct lines removed as boilerplate.
        public var boilerplateLines = 0
        public var modifiedByStep: [String: Int] = [:]
        public var afterExactDedup = StageCounts()
        public var exactDuplicateClusters = 0
        public var afterNearDedup = StageCounts()
        public var nearDuplicateClusters = 0
        public var nearDuplicateSettings: [String: Double] = [:]
        public var train = StageCounts()
        public var validation = StageCounts()
        public var trainTokens = 0
        public var validationTokens = 0
        public var crossSplitNearDuplicates = 0
        public var seconds = 0.0
        /// Seconds spent in each stage.
        public var stageSeconds: [String: Double] = [:]
    }

    public func run(inputs: [String], tokenizer: BPETokenizer, outputDirectory out: URL,
                    progress report: (String) -> Void = { _ in }) throws -> Report {
        let start = Date()
        var stage = ("", Date())
        var stageSeconds: [String: Double] = [:]
        func progress(_ name: String) {
            if !stage.0.isEmpty { stageSeconds[stage.0] = Date().timeIntervalSince(stage.1) }
            stage = (name, Date())
            if !name.isEmpty { report(name) }
        }
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var result = Report()
        result.inputs = try DocumentReader.files(for: inputs)
        guard let eos = tokenizer.specialTokens[endOfText] else {
            throw DataError(path: "tokenizer", "has no \(endOfText) special token to put between documents")
        }

        progress("reading")
        let documents = try reader.documents(in: inputs)
        for d in documents { result.read.add(d.text) }

        progress("cleaning")
        // Documents are cleaned in parallel; results are gathered in input order.
        let cleaner = self.cleaner
        var outcomes = [(Cleaner.Outcome, [String])](repeating: (.reject(""), []), count: documents.count)
        outcomes.withUnsafeMutableBufferPointer { buffer in
            let results = SendablePointer(buffer.baseAddress!)
            parallelChunks(documents.count, minChunk: 256) { range in
                for i in range {
                    var changed: [String] = []
                    let outcome = cleaner.clean(documents[i].text) { changed.append($0) }
                    results.base[i] = (outcome, changed)
                }
            }
        }
        var kept: [Document] = []
        var rejects = Data()
        for (d, (outcome, changed)) in zip(documents, outcomes) {
            for step in changed { result.modifiedByStep[step, default: 0] += 1 }
            switch outcome {
            case .keep(let text):
                var c = d; c.text = text; kept.append(c); result.cleaned.add(text)
            case .reject(let reason):
                let step = String(reason.prefix { $0 != ":" })
                result.rejectedByReason[step, default: 0] += 1
                rejects += Self.jsonLine(["source": d.location, "reason": reason, "text": d.text])
            }
        }
        try rejects.write(to: out.appendingPathComponent("rejects.jsonl"))

        progress("boilerplate lines")
        kept = removeBoilerplate(kept, report: &result, rejects: &rejects)
        try rejects.write(to: out.appendingPathComponent("rejects.jsonl"))

        progress("exact dedup")
        var duplicatesLog = Data()
        var firstIndex: [String: Int] = [:]
        var exactPairs: [(Int, Int)] = []
        for (i, d) in kept.enumerated() {
            if let j = firstIndex[d.text] { exactPairs.append((j, i)) } else { firstIndex[d.text] = i }
        }
        let exactClusters = clusters(count: kept.count, pairs: exactPairs)
        result.exactDuplicateClusters = exactClusters.count
        kept = Self.keepLongest(kept, clusters: exactClusters, kind: "exact", log: &duplicatesLog)
        for d in kept { result.afterExactDedup.add(d.text) }

        var signatures: [[UInt32]] = [], shingleSets: [[UInt64]] = []
        if let finder = nearDuplicates {
            progress("near dedup (MinHash, \(finder.permutations) permutations, \(finder.bands)×\(finder.rows) bands)")
            result.nearDuplicateSettings = ["threshold": finder.threshold, "permutations": Double(finder.permutations),
                                            "bands": Double(finder.bands), "rows": Double(finder.rows),
                                            "shingle": Double(finder.shingleSize)]
            signatures = finder.signatures(kept.map(\.text))
            shingleSets = finder.shingleSets(kept.map(\.text))
            let nearClusters = clusters(count: kept.count, pairs: finder.similarPairs(signatures, shingleSets: shingleSets))
            result.nearDuplicateClusters = nearClusters.count
            let dropped = Self.dropped(kept, clusters: nearClusters)
            kept = Self.keepLongest(kept, clusters: nearClusters, kind: "near", log: &duplicatesLog)
            signatures = signatures.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
            shingleSets = shingleSets.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
        }
        for d in kept { result.afterNearDedup.add(d.text) }
        try duplicatesLog.write(to: out.appendingPathComponent("duplicates.jsonl"))

        progress("splitting")
        var order = Array(kept.indices)
        var rng = SeededRandom(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let validationCount = kept.count > 1 ? max(1, Int((Double(kept.count) * validationFraction).rounded())) : 0
        let validationSet = Set(order.prefix(validationCount))
        // The check: no validation document is a near-duplicate of a training one.
        if let finder = nearDuplicates, validationCount > 0 {
            result.crossSplitNearDuplicates = finder.similarPairs(signatures, shingleSets: shingleSets)
                .filter { validationSet.contains($0.0) != validationSet.contains($0.1) }.count
        }

        progress("tokenizing")
        let vocabulary = tokenizer.vocabularySize
        let trainWriter = try TokenShardWriter(url: out.appendingPathComponent("train.bin"), vocabularySize: vocabulary, eos: eos)
        let validationWriter = try TokenShardWriter(url: out.appendingPathComponent("val.bin"), vocabularySize: vocabulary, eos: eos)
        let encoded = tokenizer.encodeBatch(kept.map(\.text), threads: Parallelism.threadCount)
        for (i, d) in kept.enumerated() {
            if validationSet.contains(i) {
                try validationWriter.append(document: encoded[i]); result.validation.add(d.text)
            } else {
                try trainWriter.append(document: encoded[i]); result.train.add(d.text)
            }
        }
        try trainWriter.finish(); try validationWriter.finish()
        result.trainTokens = trainWriter.count
        result.validationTokens = validationWriter.count
        progress("")
        result.stageSeconds = stageSeconds
        result.seconds = Date().timeIntervalSince(start)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: out.appendingPathComponent("report.json"))
        return result
    }

    /// Removes boilerplate lines (see the settings); a document left shorter than the cleaner's
    /// minimum is rejected with that reason.
    func removeBoilerplate(_ docs: [Document], report: inout Report, rejects: inout Data) -> [Document] {
        var documentsWithLine: [Substring: Int] = [:]
        for d in docs {
            var seen = Set<Substring>()
            for line in d.text.split(separator: "\n") where line.count >= boilerplateMinimumLength && seen.insert(line).inserted {
                documentsWithLine[line, default: 0] += 1
            }
        }
        let needed = max(boilerplateMinimumDocuments, Int((Double(docs.count) * boilerplateMinimumShare).rounded(.up)))
        let boilerplate = Set(documentsWithLine.filter { $0.value >= needed }.keys.map(String.init))
        report.boilerplateLines = boilerplate.count
        guard !boilerplate.isEmpty else { return docs }
        var kept: [Document] = []
        report.cleaned = StageCounts()
        for d in docs {
            let lines = d.text.split(separator: "\n", omittingEmptySubsequences: false)
            let remaining = lines.filter { !boilerplate.contains(String($0)) }
            if remaining.count == lines.count { kept.append(d); report.cleaned.add(d.text); continue }
            report.modifiedByStep["boilerplate-lines", default: 0] += 1
            let text = remaining.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if text.unicodeScalars.count < cleaner.minimumCharacters {
                report.rejectedByReason["boilerplate", default: 0] += 1
                rejects += Self.jsonLine(["source": d.location, "reason": "boilerplate: nothing but repeated lines", "text": d.text])
                continue
            }
            var c = d; c.text = text; kept.append(c); report.cleaned.add(text)
        }
        return kept
    }

    /// The document of a cluster that is kept: the longest, the first among equals.
    static func keeper(_ docs: [Document], _ cluster: [Int]) -> Int {
        cluster.max { docs[$0].text.count < docs[$1].text.count || (docs[$0].text.count == docs[$1].text.count && $0 > $1) }!
    }

    /// The indices `keepLongest` drops.
    static func dropped(_ docs: [Document], clusters: [[Int]]) -> Set<Int> {
        var drop = Set<Int>()
        for cluster in clusters { let keep = keeper(docs, cluster); for i in cluster where i != keep { drop.insert(i) } }
        return drop
    }

    /// Keeps the longest document of each cluster (the first among equals) and logs the cluster.
    static func keepLongest(_ docs: [Document], clusters: [[Int]], kind: String, log: inout Data) -> [Document] {
        let drop = dropped(docs, clusters: clusters)
        for cluster in clusters {
            let keep = keeper(docs, cluster)
            log += jsonLine(["kind": kind, "kept": docs[keep].location, "dropped": cluster.filter { $0 != keep }.map { docs[$0].location },
                             "example": String(docs[keep].text.prefix(80))])
        }
        return docs.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }

    static func jsonLine(_ object: [String: Any]) -> Data {
        ((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()) + Data("\n".utf8)
    }
}
