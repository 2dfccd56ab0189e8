import Foundation

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
        text.withUTF8 { bytes in
            for v in [UInt32(bytes.count), UInt32(source), UInt32(line), UInt32(signature.count)] { file.append(littleEndian: v) }
            file.append(bytes)
        }
        for v in signature { file.append(littleEndian: v) }
        try file.flushIfFull()
    }

    func close() throws { try file.close() }
}

/// Reads a work file back in batches of documents, 4 MiB of the file at a time.
struct WorkFileReader {
    let url: URL
    /// The run's inputs, which records name by index.
    let sources: [String]

    /// `body` receives each batch's documents and their signatures (empty where none was written).
    func forEachBatch(size: Int = 4096, _ body: ([Document], [[UInt32]]) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw DataError(path: url.path, "cannot open the work file") }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var start = 0
        var batch: [Document] = []
        var signatures: [[UInt32]] = []
        var finished = false
        while true {
            // Parse every whole record in `pending[start...]`.
            while pending.count - start >= 16 {
                func field(_ k: Int) -> Int {
                    pending.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: start + 4 * k, as: UInt32.self))) }
                }
                let (length, source, line, values) = (field(0), field(1), field(2), field(3))
                let recordSize = 16 + length + 4 * values
                guard pending.count - start >= recordSize else { break }
                guard source < sources.count else { throw DataError(path: url.path, "work file is corrupted (source \(source))") }
                let text = pending.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[(start + 16)..<(start + 16 + length)]), as: UTF8.self) }
                let signature = pending.withUnsafeBytes { raw in
                    (0..<values).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 16 + length + 4 * $0, as: UInt32.self)) }
                }
                batch.append(Document(text: text, source: sources[source], line: line))
                signatures.append(signature)
                start += recordSize
                if batch.count == size { try body(batch, signatures); batch = []; signatures = [] }
            }
            if finished { break }
            let chunk = try handle.read(upToCount: 1 << 22) ?? Data()
            if chunk.isEmpty { finished = true; continue }
            pending.removeFirst(start)
            start = 0
            pending.append(contentsOf: chunk)
        }
        guard start == pending.count else { throw DataError(path: url.path, "work file is truncated") }
        if !batch.isEmpty { try body(batch, signatures) }
    }
}
