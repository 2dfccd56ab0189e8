import Foundation
import LianKernels
import LianTokenizer

/// `lian data prepare`: read → clean → exact dedup → near dedup → split → tokenize to shards, with
/// a report of every stage. Rejected documents go to rejects.jsonl with their reason and source,
/// duplicate clusters to duplicates.jsonl; nothing disappears silently.
///
/// Memory: one input file's documents at a time (cleaning), then work files on disk read back in
/// batches; across the whole corpus only a 128-bit hash, a MinHash signature (4 bytes per
/// permutation), a length and a location per distinct document are held, plus the count of each
/// distinct long line (for boilerplate) and the shingles of LSH candidates. Both cores clean,
/// sign and tokenize.
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
        /// A document of `count` scalars.
        mutating func add(count: Int) { documents += 1; characters += count }
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
        try run(inputs: inputs, loadingTokenizer: { tokenizer }, outputDirectory: out, progress: report)
    }

    /// The same, with the tokenizer loaded on a thread of its own while the first file is read
    /// (parsing a tokenizer.json takes as long as reading a file); a tokenizer that fails to load
    /// or has no end-of-text token stops the run before any cleaning.
    public func run(inputs: [String], loadingTokenizer load: @escaping @Sendable () throws -> BPETokenizer,
                    outputDirectory out: URL, progress report: (String) -> Void = { _ in }) throws -> Report {
        let loading = BackgroundValue(load)
        let start = Date()
        var stage = ("", Date())
        var stageSeconds: [String: Double] = [:]
        func progress(_ name: String) {
            if !stage.0.isEmpty { stageSeconds[stage.0, default: 0] += Date().timeIntervalSince(stage.1) }
            stage = (name, Date())
            if !name.isEmpty { report(name) }
        }
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let work = out.appendingPathComponent(".work")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var result = Report()
        result.inputs = try DocumentReader.files(for: inputs)
        var loaded: (tokenizer: BPETokenizer, eos: Int32)?
        func tokenizerAndEOS() throws -> (tokenizer: BPETokenizer, eos: Int32) {
            if let loaded { return loaded }
            let tokenizer = try loading.value()
            guard let eos = tokenizer.specialTokens[endOfText] else {
                throw DataError(path: "tokenizer", "has no \(endOfText) special token to put between documents")
            }
            loaded = (tokenizer, eos)
            return (tokenizer, eos)
        }

        // Pass 1, a file at a time: read, clean (in parallel), write the kept documents to a work
        // file and the rejected ones to rejects.jsonl; count long lines for boilerplate.
        let rejects = try JSONLWriter(out.appendingPathComponent("rejects.jsonl"))
        let cleanedFile = try WorkFileWriter(work.appendingPathComponent("cleaned.bin"))
        // Documents per long line, counted on all cores: each thread owns the lines whose hash
        // falls in its part.
        let parts = max(1, Parallelism.threadCount)
        var documentsWithLine = [HashKeyedTable<Int>](repeating: HashKeyedTable(empty: 0), count: parts)
        var keptDocuments = 0   // the cleaned counts are taken in pass 2, after boilerplate removal
        for (fileIndex, file) in result.inputs.enumerated() {
            progress("reading")
            let documents = try reader.documents(inFile: file)
            _ = try tokenizerAndEOS()
            var counts = [Int](repeating: 0, count: documents.count)
            counts.withUnsafeMutableBufferPointer { buffer in
                let out = SendablePointer(buffer.baseAddress!)
                parallelDynamic(documents.count) { i in out.base[i] = UTF8Scan.scalarCount(documents[i].text) }
            }
            for c in counts { result.read.add(count: c) }
            progress("cleaning")
            var keptLongLines: [[UInt64]] = []
            let outcomes = clean(documents)
            try cleanedFile.write(count: documents.count) { i in
                guard case .keep(let text) = outcomes[i].0 else { return nil }
                return (text, fileIndex, documents[i].line, outcomes[i].3)
            }
            for (d, (outcome, changed, longLines, _)) in zip(documents, outcomes) {
                for step in changed { result.modifiedByStep[step, default: 0] += 1 }
                switch outcome {
                case .keep:
                    keptDocuments += 1
                    if !longLines.isEmpty { keptLongLines.append(longLines) }
                case .reject(let reason):
                    result.rejectedByReason[String(reason.prefix { $0 != ":" }), default: 0] += 1
                    try rejects.write(["source": d.location, "reason": reason, "text": d.text])
                }
            }
            let lists = keptLongLines
            documentsWithLine.withUnsafeMutableBufferPointer { buffer in
                let tables = SendablePointer(buffer.baseAddress!)
                parallelFor(parts) { part in
                    for list in lists {
                        for h in list where Int(h % UInt64(parts)) == part { tables.base[part].update(h, initial: 1) { $0 += 1 } }
                    }
                }
            }
        }
        try cleanedFile.close()
        let (tokenizer, eos) = try tokenizerAndEOS()
        let needed = max(boilerplateMinimumDocuments, Int((Double(keptDocuments) * boilerplateMinimumShare).rounded(.up)))
        var repeatedLines = Set<UInt64>()
        for table in documentsWithLine { table.forEach { line, documents in if documents >= needed { repeatedLines.insert(line) } } }
        let boilerplate = repeatedLines
        documentsWithLine = []
        result.boilerplateLines = boilerplate.count

        // Pass 2: boilerplate lines out, exact duplicates out (a 128-bit hash of the text per
        // document is all that is kept), MinHash signatures of the rest.
        progress("boilerplate and exact dedup")
        let uniqueFile = try WorkFileWriter(work.appendingPathComponent("unique.bin"))
        let sourceIndex = Dictionary(result.inputs.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // Locations as (source index, line) packed in one Int; written out as "file:line" only
        // where a log names them.
        func place(_ d: Document) -> Int { sourceIndex[d.source]! << 32 | d.line }
        let inputs = result.inputs
        @Sendable func location(_ place: Int) -> String { "\(inputs[place >> 32]):\(place & 0xFFFF_FFFF)" }
        var seenTexts: [Hash128: Int] = [:]             // hash → place of the first copy
        var exactGroups: [Int: [Int]] = [:]             // first copy's place → later copies
        var lengths: [Int] = []
        var places: [Int] = []
        var signatures: [[UInt32]] = []
        let finder = nearDuplicates
        let minimumLength = boilerplateMinimumLength
        try forEachBatch(of: work.appendingPathComponent("cleaned.bin"), sources: result.inputs) { batch, cleanedSignatures in
            // In parallel: boilerplate lines out, then each text's hash and length in scalars.
            var prepared = [(text: String, trimmed: Bool, hash: Hash128, length: Int)](
                repeating: ("", false, Hash128(""), 0), count: batch.count)
            prepared.withUnsafeMutableBufferPointer { buffer in
                let out = SendablePointer(buffer.baseAddress!)
                parallelDynamic(batch.count) { i in
                    var text = batch[i].text
                    var trimmed = false
                    if !boilerplate.isEmpty, Self.longLineHashes(text, minimumLength: minimumLength).contains(where: boilerplate.contains) {
                        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                        text = lines.filter { !($0.unicodeScalars.count >= minimumLength && boilerplate.contains(UTF8Scan.hash(String($0)))) }
                            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                        trimmed = true
                    }
                    out.base[i] = (text, trimmed, Hash128(text), UTF8Scan.scalarCount(text))
                }
            }
            var unique: [Document] = []
            var uniquePlaces: [Int] = []
            var uniqueSignatures: [[UInt32]] = []
            for (k, (var d, p)) in zip(batch, prepared).enumerated() {
                d.text = p.text
                if p.trimmed {
                    result.modifiedByStep["boilerplate-lines", default: 0] += 1
                    if p.length < cleaner.minimumCharacters {
                        result.rejectedByReason["boilerplate", default: 0] += 1
                        try rejects.write(["source": d.location, "reason": "boilerplate: nothing but repeated lines", "text": d.text])
                        continue
                    }
                }
                result.cleaned.add(count: p.length)
                let here = place(d)
                if let first = seenTexts[p.hash] { exactGroups[first, default: []].append(here); continue }
                seenTexts[p.hash] = here
                unique.append(d)
                uniquePlaces.append(here)
                // The signature cleaning computed, unless boilerplate removal changed the text.
                uniqueSignatures.append(p.trimmed ? [] : cleanedSignatures[k])
                lengths.append(p.length)
                result.afterExactDedup.add(count: p.length)
            }
            let written = unique, writtenPlaces = uniquePlaces
            try uniqueFile.write(count: written.count) { i in (written[i].text, writtenPlaces[i] >> 32, written[i].line, []) }
            places += uniquePlaces
            if let finder {
                let missing = uniqueSignatures.indices.filter { uniqueSignatures[$0].count != finder.permutations }
                for (i, signature) in zip(missing, finder.signatures(missing.map { unique[$0].text })) { uniqueSignatures[i] = signature }
                signatures += uniqueSignatures
            }
        }
        try uniqueFile.close()
        try rejects.close()
        seenTexts = [:]
        result.exactDuplicateClusters = exactGroups.count
        let duplicatesLog = try JSONLWriter(out.appendingPathComponent("duplicates.jsonl"))
        // The lines in order of the kept copy's location, built on all cores.
        let groups = exactGroups.map { (kept: location($0.key), dropped: $0.value) }.sorted { $0.kept < $1.kept }
        exactGroups = [:]
        var lines = [[UInt8]](repeating: [], count: groups.count)
        lines.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            parallelDynamic(groups.count) { k in
                out.base[k] = Self.jsonLine(["kind": "exact", "kept": groups[k].kept, "dropped": groups[k].dropped.map(location)])
            }
        }
        for line in lines { try duplicatesLog.append(line) }

        // Near duplicates: LSH candidates from the signatures; pass 3 reads back only the
        // candidates' texts to verify them with exact Jaccard.
        var dropped = Set<Int>()
        var verifiedPairs: [(Int, Int)] = []
        if let finder {
            progress("near dedup (MinHash, \(finder.permutations) permutations, \(finder.bands)×\(finder.rows) bands)")
            result.nearDuplicateSettings = ["threshold": finder.threshold, "permutations": Double(finder.permutations),
                                            "bands": Double(finder.bands), "rows": Double(finder.rows),
                                            "shingle": Double(finder.shingleSize)]
            let candidates = finder.candidatePairs(signatures)
            let involved = Set(candidates.flatMap { [$0.0, $0.1] })
            var shingles: [Int: [UInt64]] = [:]
            var index = 0
            try forEachBatch(of: work.appendingPathComponent("unique.bin"), sources: result.inputs,
                             wantsText: { involved.contains($0) }) { batch, _ in
                var wanted: [(Int, String)] = []
                for d in batch {
                    if involved.contains(index) { wanted.append((index, d.text)) }
                    index += 1
                }
                // The candidates' shingle sets, on all cores (a candidate may be a whole play).
                let texts = wanted
                var sets = [[UInt64]](repeating: [], count: texts.count)
                sets.withUnsafeMutableBufferPointer { buffer in
                    let out = SendablePointer(buffer.baseAddress!)
                    parallelDynamic(texts.count) { k in out.base[k] = Array(Shingler.shingles(texts[k].1, n: finder.shingleSize)).sorted() }
                }
                for ((i, _), set) in zip(texts, sets) { shingles[i] = set }
            }
            verifiedPairs = candidates.filter { NearDuplicateFinder.jaccard(shingles[$0.0]!, shingles[$0.1]!) >= finder.threshold }
            let nearClusters = clusters(count: lengths.count, pairs: verifiedPairs)
            result.nearDuplicateClusters = nearClusters.count
            for cluster in nearClusters {
                let keep = cluster.max { lengths[$0] < lengths[$1] || (lengths[$0] == lengths[$1] && $0 > $1) }!
                for i in cluster where i != keep { dropped.insert(i) }
                try duplicatesLog.write(["kind": "near", "kept": location(places[keep]), "dropped": cluster.filter { $0 != keep }.map { location(places[$0]) }])
            }
            signatures = []
        }
        try duplicatesLog.close()

        // Split the surviving documents, seeded.
        progress("splitting")
        let survivors = (0..<lengths.count).filter { !dropped.contains($0) }
        var order = survivors
        var rng = SeededRandom(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let validationCount = survivors.count > 1 ? max(1, Int((Double(survivors.count) * validationFraction).rounded())) : 0
        let validationSet = Set(order.prefix(validationCount))
        // The check: no near-duplicate pair has one document on each side of the split.
        result.crossSplitNearDuplicates = verifiedPairs.filter {
            !dropped.contains($0.0) && !dropped.contains($0.1) && validationSet.contains($0.0) != validationSet.contains($0.1)
        }.count

        // Pass 4: tokenize the survivors a batch at a time (in parallel) into the shards.
        progress("tokenizing")
        let vocabulary = tokenizer.vocabularySize
        let trainWriter = try TokenShardWriter(url: out.appendingPathComponent("train.bin"), vocabularySize: vocabulary, eos: eos)
        let validationWriter = try TokenShardWriter(url: out.appendingPathComponent("val.bin"), vocabularySize: vocabulary, eos: eos)
        var index = 0
        try forEachBatch(of: work.appendingPathComponent("unique.bin"), sources: result.inputs,
                         wantsText: { !dropped.contains($0) }) { batch, _ in
            var kept: [(Int, Document)] = []
            for d in batch { if !dropped.contains(index) { kept.append((index, d)) }; index += 1 }
            let encoded = tokenizer.encodeBatch(kept.map(\.1.text), threads: Parallelism.threadCount)
            for ((i, _), ids) in zip(kept, encoded) {
                result.afterNearDedup.add(count: lengths[i])
                if validationSet.contains(i) {
                    try validationWriter.append(document: ids); result.validation.add(count: lengths[i])
                } else {
                    try trainWriter.append(document: ids); result.train.add(count: lengths[i])
                }
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

    /// Cleans documents in parallel; outcomes in input order, with the steps that changed each
    /// and, for a kept document, the hashes of its distinct long lines (for boilerplate).
    /// Cleaning is a function of the text alone, so a text repeated in the batch (raw corpora
    /// are full of copies) is cleaned once and its outcome shared.
    func clean(_ documents: [Document]) -> [(Cleaner.Outcome, [String], [UInt64], [UInt32])] {
        let cleaner = self.cleaner
        let minimumLength = boilerplateMinimumLength
        let hasher = nearDuplicates?.hasher, shingleSize = nearDuplicates?.shingleSize ?? 0
        var firstCopy: [Hash128: Int] = [:]
        var distinct: [Int] = []
        var copyOf = [Int](repeating: -1, count: documents.count)
        var hashes = [Hash128](repeating: Hash128(""), count: documents.count)
        hashes.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            parallelDynamic(documents.count) { i in out.base[i] = Hash128(documents[i].text) }
        }
        for (i, h) in hashes.enumerated() {
            if let first = firstCopy[h] {   // 128 bits: a collision is ~2⁻¹²⁸, as in exact dedup
                copyOf[i] = first
            } else {
                firstCopy[h] = i
                distinct.append(i)
            }
        }
        let toClean = distinct
        var outcomes = [(Cleaner.Outcome, [String], [UInt64], [UInt32])](repeating: (.reject(""), [], [], []), count: documents.count)
        outcomes.withUnsafeMutableBufferPointer { buffer in
            let results = SendablePointer(buffer.baseAddress!)
            parallelDynamic(toClean.count) { k in
                let i = toClean[k]
                var changed: [String] = []
                var units: [Shingler.Unit] = []
                let outcome = cleaner.clean(documents[i].text, changed: { changed.append($0) }, units: &units)
                var lines: [UInt64] = [], signature: [UInt32] = []
                if case .keep(let text) = outcome {
                    lines = Self.longLineHashes(text, minimumLength: minimumLength)
                    // Near-dedup's signature from the units the repetition filter made.
                    if let hasher { signature = hasher.signature(units: units, shingleSize: shingleSize) }
                }
                results.base[i] = (outcome, changed, lines, signature)
            }
        }
        for i in documents.indices where copyOf[i] >= 0 { outcomes[i] = outcomes[copyOf[i]] }
        return outcomes
    }

    /// The distinct hashes of the lines of at least `minimumLength` scalars.
    static func longLineHashes(_ text: String, minimumLength: Int) -> [UInt64] {
        var text = text
        var seen = Set<UInt64>()
        var result: [UInt64] = []
        text.withUTF8 { b in
            UTF8Scan.forEachLine(b) { line in
                // At least `minimumLength` scalars: count lead bytes, stopping once there are enough.
                guard line.count >= minimumLength else { return }
                var scalars = 0
                for byte in line where byte & 0xC0 != 0x80 { scalars += 1; if scalars >= minimumLength { break } }
                guard scalars >= minimumLength else { return }
                let h = UTF8Scan.hash(line)
                if seen.insert(h).inserted { result.append(h) }
            }
        }
        return result
    }

    /// Reads a work file back in batches of documents.
    func forEachBatch(of url: URL, sources: [String], size: Int = 4096, wantsText: ((Int) -> Bool)? = nil,
                      _ body: ([Document], [[UInt32]]) throws -> Void) throws {
        try WorkFileReader(url: url, sources: sources).forEachBatch(size: size, wantsText: wantsText, body)
    }

    /// One JSON object as a line: keys sorted, slashes and non-ASCII written as they are.
    static func jsonLine(_ object: [String: Any]) -> [UInt8] {
        var out: [UInt8] = []
        JSONText.append(object, to: &out)
        out.append(0x0A)
        return out
    }
}

/// A 128-bit text hash (two differently mixed 64-bit hashes) for exact deduplication: storing it
/// instead of the text keeps memory per document constant; a collision is ~2⁻¹²⁸.
struct Hash128: Hashable {
    let a: UInt64, b: UInt64
    init(_ text: String) {
        var text = text
        // The state lives inside the closure (captured variables were checked for exclusive
        // access at run time on every step).
        (a, b) = text.withUTF8 { bytes -> (UInt64, UInt64) in
            var x: UInt64 = 0xCBF2_9CE4_8422_2325, y: UInt64 = 0x6C62_272E_07BB_0142
            // Eight bytes a step, each folded into two differently mixed 64-bit states.
            @inline(__always) func fold(_ word: UInt64, _ x: inout UInt64, _ y: inout UInt64) {
                x = (x ^ word) &* 0x100_0000_01B3; x ^= x >> 29
                y = (y &+ word) &* 0x9E37_79B9_7F4A_7C15; y ^= y >> 31
            }
            var i = 0
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                while i + 8 <= bytes.count { fold(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)), &x, &y); i += 8 }
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count { tail |= UInt64(bytes[i]) << shift; shift += 8; i += 1 }
            fold(tail ^ UInt64(bytes.count) << 56, &x, &y)   // the length too: "a" and "a\0" differ
            return (x, y)
        }
    }
}

