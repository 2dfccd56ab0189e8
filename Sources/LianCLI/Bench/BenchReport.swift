import Foundation
import LianKernels

/// Prints benchmark results: a table for people, or with `--json` one JSON document for scripts.
struct BenchReport<Row: Encodable> {
    let title: String
    var rows: [Row] = []
    var notes: [String] = []

    init(title: String) { self.title = title }

    /// The machine line every report starts with, so a pasted table says where it came from.
    static var machineLine: String {
        "\(CPUFeatures.modelName), \(ProcessInfo.processInfo.activeProcessorCount) cores, "
            + "GEMM kernel \(GEMM.usesWideKernel ? "8x32 (AVX-512)" : "6x16")"
    }

    func printJSON(extra: [String: String] = [:]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let doc = BenchDocument(benchmark: title, machine: Self.machineLine, info: extra, measurements: rows)
        if let data = try? encoder.encode(doc), let text = String(data: data, encoding: .utf8) { print(text) }
    }
}

/// The JSON document every `lian bench --json` prints.
struct BenchDocument<R: Encodable>: Encodable {
    let benchmark: String
    let machine: String
    let info: [String: String]
    let measurements: [R]
}

/// Formats a number with a fixed number of decimals, for tables.
func fixed(_ x: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", x) }

/// Pads cells to column widths: the first column left-aligned, the rest right-aligned.
func tableLines(header: [String], rows: [[String]]) -> [String] {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            return i == 0 ? cell + pad : pad + cell
        }.joined(separator: "  ")
    }
    return [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line)
}
