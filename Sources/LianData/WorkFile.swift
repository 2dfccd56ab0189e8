import Foundation
import LianKernels

/// The pipeline's scratch files between passes: documents as binary records, written and read
/// back without JSON (encoding and parsing JSON lines cost more than cleaning the text did).
///
/// Record: text length in bytes (u32), source index into the run's input list (u32), line (u32),
/// the count of values that follow the text (u32: a MinHash signature, or 0), the UTF-8 text,
/// then the values (u32 each). Little-endian; the file never leaves the run that wrote it.
final class WorkFileWriter {
    private let file: BufferedFileWriter

    init(_ url: URL) throws { file = try BufferedFileWriter(url, what: "the work file") }

    /// Writes many records at once: serialized on all cores, a contiguous run of items per
    /// thread, then appended in order. `item(i)` is nil for an item that has no record.
    func write(count: Int, _ item: @Sendable (Int) -> (text: String, source: Int, line: Int, signature: [UInt32])?) throws {
        let parts = Swift.max(1, Swift.min(count / 64, 4 * Parallelism.threadCount))
        var chunks = [[UInt8]](repeating: [], count: parts)
        chunks.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            parallelDynamic(parts) { part in
                var bytes: [UInt8] = []
                for i in (count * part / parts)..<(count * (part + 1) / parts) {
                    guard let (original, source, line, signature) = item(i) else { continue }
                    var text = original
                    text.withUTF8 { utf8 in
                        let header = SIMD4<UInt32>(UInt32(utf8.count).littleEndian, UInt32(source).littleEndian,
                                                   UInt32(line).littleEndian, UInt32(signature.count).littleEndian)
                        withUnsafeBytes(of: header) { bytes.append(contentsOf: $0) }
                        bytes.append(contentsOf: utf8)
                    }
                    signature.withUnsafeBufferPointer { values in
                        #if _endian(big)
                        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
                        #else
                        bytes.append(contentsOf: UnsafeRawBufferPointer(values))
                        #endif
                    }
                }
                out.base[part] = bytes
            }
        }
        for chunk in chunks { try file.append(chunk) }
    }

    func close() throws { try file.close() }
}

/// Reads a work file back in batches of documents, through a memory map (the file is the run's
/// own, read once front to back; its pages are the system's to drop, so memory stays bounded).
struct WorkFileReader {
    let url: URL
    /// The run's inputs, which records name by index.
    let sources: [String]

    /// `body` receives each batch's documents and their signatures (empty where none was written).
    /// Where `wantsText` says no for a record (its index in the file), its document comes with an
    /// empty text: decoding (and validating) text nobody reads costs more than reading it. A
    /// batch's texts are decoded on all cores.
    func forEachBatch(size: Int = 4096, wantsText: ((Int) -> Bool)? = nil,
                      _ body: ([Document], [[UInt32]]) throws -> Void) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw DataError(path: url.path, "cannot open the work file")
        }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            let bytes = SendablePointer(base.assumingMemoryBound(to: UInt8.self))
            var records: [(text: Range<Int>, source: Int, line: Int, wanted: Bool)] = []
            var signatures: [[UInt32]] = []
            func deliver() throws {
                let batch = records
                var texts = [String](repeating: "", count: batch.count)
                texts.withUnsafeMutableBufferPointer { buffer in
                    let out = SendablePointer(buffer.baseAddress!)
                    parallelDynamic(batch.count) { k in
                        guard batch[k].wanted else { return }
                        out.base[k] = String(decoding: UnsafeBufferPointer(start: bytes.base + batch[k].text.lowerBound,
                                                                           count: batch[k].text.count), as: UTF8.self)
                    }
                }
                let documents = zip(batch, texts).map { Document(text: $1, source: sources[$0.source], line: $0.line) }
                try body(documents, signatures)
                records.removeAll(keepingCapacity: true)
                signatures.removeAll(keepingCapacity: true)
            }
            var offset = 0, index = 0
            while offset < raw.count {
                guard raw.count - offset >= 16 else { throw DataError(path: url.path, "work file is truncated") }
                func field(_ k: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * k, as: UInt32.self))) }
                let (length, source, line, values) = (field(0), field(1), field(2), field(3))
                guard raw.count - offset >= 16 + length + 4 * values else { throw DataError(path: url.path, "work file is truncated") }
                guard source < sources.count else { throw DataError(path: url.path, "work file is corrupted (source \(source))") }
                let textStart = offset + 16
                records.append((textStart..<(textStart + length), source, line, wantsText?(index) != false))
                index += 1
                signatures.append(values == 0 ? [] : [UInt32](unsafeUninitializedCapacity: values) { out, initialized in
                    UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: base + textStart + length, byteCount: 4 * values)
                    #if _endian(big)
                    for k in 0..<values { out[k] = UInt32(littleEndian: out[k]) }
                    #endif
                    initialized = values
                })
                offset = textStart + length + 4 * values
                if records.count == size { try deliver() }
            }
            if !records.isEmpty { try deliver() }
        }
    }
}
