import Foundation
import LianKernels

/// Reads documents from files: `.txt` and `.md` (the whole file, paragraphs, lines, or entries
/// between separator lines such as fortune files' `%`), `.jsonl` (a text field, or chat
/// `messages` joined as "role: content" lines); directories recursively; `*`/`?` globs in the last
/// path component; `.gz` files through the system's `gzip -dc`.
public struct DocumentReader {
    public enum TextMode: Equatable, Sendable {
        case whole, paragraphs, lines
        /// Documents separated by lines equal to the string (fortune files: "%").
        case separatedBy(String)
    }

    public var textMode: TextMode = .paragraphs
    public var jsonField = "text"

    public init(textMode: TextMode = .paragraphs, jsonField: String = "text") {
        self.textMode = textMode; self.jsonField = jsonField
    }

    /// Every file a list of paths names (directories walked, globs expanded), sorted per argument.
    public static func files(for paths: [String]) throws -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    let found = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
                    result += found.filter { [".txt", ".md", ".jsonl", ".gz"].contains(where: $0.hasSuffix) }
                        .sorted().map { (path as NSString).appendingPathComponent($0) }
                } else {
                    result.append(path)
                }
            } else if path.contains("*") || path.contains("?") {
                let directory = (path as NSString).deletingLastPathComponent
                let pattern = (path as NSString).lastPathComponent
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
                let matches = names.filter { fnmatch(pattern, $0, 0) == 0 }.sorted()
                if matches.isEmpty { throw DataError(path: path, "matches no file") }
                result += matches.map { directory.isEmpty ? $0 : (directory as NSString).appendingPathComponent($0) }
            } else {
                throw DataError(path: path, "no such file or directory")
            }
        }
        return result
    }

    /// Reads every document of the files, in order.
    public func documents(in paths: [String]) throws -> [Document] {
        var all: [Document] = []
        for file in try Self.files(for: paths) { all += try documents(inFile: file) }
        return all
    }

    public func documents(inFile path: String) throws -> [Document] {
        var name = path
        var data: Data
        if path.hasSuffix(".gz") {
            data = try Self.gunzip(path)
            name = String(path.dropLast(3))
        } else {
            // Mapped, not copied: the bytes are parsed once, on both cores.
            guard let d = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
                throw DataError(path: path, "cannot read the file")
            }
            data = d
        }
        if name.hasSuffix(".jsonl") { return try data.withUnsafeBytes { try jsonLines($0.bindMemory(to: UInt8.self), path: path) } }
        return split(String(decoding: data, as: UTF8.self), source: path)
    }

    func split(_ text: String, source: String) -> [Document] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var docs: [Document] = []
        switch textMode {
        case .whole:
            if !text.isEmpty { docs.append(Document(text: text, source: source, line: 1)) }
        case .lines:
            for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                docs.append(Document(text: String(line), source: source, line: i + 1))
            }
        case .paragraphs, .separatedBy:
            var current: [Substring] = []
            var start = 1
            func flush() {
                let body = current.joined(separator: "\n")
                if !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    docs.append(Document(text: body, source: source, line: start))
                }
                current = []
            }
            for (i, line) in lines.enumerated() {
                let boundary: Bool
                if case .separatedBy(let s) = textMode { boundary = line.trimmingCharacters(in: .whitespaces) == s }
                else { boundary = line.trimmingCharacters(in: .whitespaces).isEmpty }
                if boundary {
                    flush()
                    start = i + 2
                } else {
                    if current.isEmpty { start = i + 1 }
                    current.append(line)
                }
            }
            flush()
        }
        return docs
    }

    /// One document per line; lines are parsed on all cores (in blocks, in order), and the
    /// first bad line, by position, is the one reported.
    func jsonLines(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws -> [Document] {
        var lines: [Range<Int>] = []
        var start = 0
        while start < bytes.count, let base = bytes.baseAddress {
            let end = memchr(base + start, 0x0A, bytes.count - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? bytes.count
            lines.append(start..<end)
            start = end + 1
        }
        let lineRanges = lines, count = bytes.count
        // Blocks of lines for the threads to take in turn; a file of a few huge lines (whole plays)
        // gets a block per line.
        let blocks = max(1, min(lines.count, 256))
        var parsed = [Result<[Document], DataError>](repeating: .success([]), count: blocks)
        let field = jsonField
        let base = SendablePointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!)
        parsed.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            parallelDynamic(blocks) { block in
                let all = UnsafeBufferPointer(start: base.base, count: count)
                var docs: [Document] = []
                for number in (lineRanges.count * block / blocks)..<(lineRanges.count * (block + 1) / blocks) {
                    do {
                        if let d = try Self.document(UnsafeBufferPointer(rebasing: all[lineRanges[number]]), number: number + 1, field: field, path: path) { docs.append(d) }
                    } catch let error as DataError {
                        out.base[block] = .failure(error)
                        return
                    } catch {
                        out.base[block] = .failure(DataError(path: "\(path):\(number + 1)", "\(error)"))
                        return
                    }
                }
                out.base[block] = .success(docs)
            }
        }
        var docs: [Document] = []
        docs.reserveCapacity(lines.count)
        for result in parsed { docs += try result.get() }
        return docs
    }

    /// The document on one JSON line (nil for a blank line).
    static func document(_ line: UnsafeBufferPointer<UInt8>, number: Int, field: String, path: String) throws -> Document? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        switch JSONLine.field(field, in: line) {
        case .string(let body)?:
            return Document(text: body, source: path, line: number)
        case nil:
            throw DataError(path: "\(path):\(number)", "is not a JSON object")
        case .missing?, .otherValue?:
            // Chat records (rarer): the general parser, for the `messages` list.
            let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            guard let messages = object?["messages"] as? [[String: Any]] else {
                throw DataError(path: "\(path):\(number)", "has no \"\(field)\" string and no \"messages\" list (choose the field with --text-field)")
            }
            let body = messages.compactMap { m -> String? in
                guard let role = m["role"] as? String, let content = m["content"] as? String else { return nil }
                return "\(role): \(content)"
            }.joined(separator: "\n")
            return Document(text: body, source: path, line: number)
        }
    }

    static func gunzip(_ path: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw DataError(path: path, "cannot run gzip to decompress it") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw DataError(path: path, "is not a valid gzip file") }
        return data
    }
}
