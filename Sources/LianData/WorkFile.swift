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

    func write(text: String, source: Int, line: Int, signature: [UInt32] = []) throws {
        var text = text
        try text.withUTF8 { bytes in
            try file.append(UInt32(bytes.count), UInt32(source), UInt32(line), UInt32(signature.count))
            try file.append(UnsafeRawBufferPointer(bytes))
        }
        try file.append(littleEndian: signature)
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
