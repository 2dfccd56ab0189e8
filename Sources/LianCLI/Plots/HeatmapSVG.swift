import Foundation

/// An attention heatmap as SVG: rows are queries, columns keys, darker = more attention; tokens
/// label both axes.
enum HeatmapSVG {
    static func render(_ values: ArraySlice<Float>, size n: Int, labels: [String], title: String) -> String {
        let cell = max(8.0, min(28.0, 560.0 / Double(max(1, n))))
        let margin = 110.0, top = 50.0 + margin * 0.7
        let width = margin + cell * Double(n) + 20, height = top + cell * Double(n) + 20
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" font-size="\(Int(min(12, cell * 0.8)))">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="18" text-anchor="middle" font-size="14">\(escape(title))</text>

        """
        let base = values.startIndex
        for i in 0..<n {
            for j in 0..<n {
                let v = Double(values[base + i * n + j])
                // White (0) to deep red (1), on a square-root scale so small weights stay visible.
                let s = sqrt(max(0, min(1, v)))
                let r = Int(255 - s * (255 - 153)), g = Int(255 - s * 255), b = Int(255 - s * 255)
                out += "<rect x=\(f(margin + Double(j) * cell)) y=\(f(top + Double(i) * cell)) width=\(f(cell)) height=\(f(cell)) fill=\"rgb(\(r),\(g),\(b))\"><title>\(escape(labels[i])) → \(escape(labels[j])): \(String(format: "%.3f", v))</title></rect>"
            }
            out += "\n"
        }
        for (i, label) in labels.enumerated() {
            let y = top + (Double(i) + 0.7) * cell
            out += "<text x=\(f(margin - 4)) y=\(f(y)) text-anchor=\"end\">\(escape(label))</text>"
            let x = margin + (Double(i) + 0.7) * cell
            out += "<text transform=\"translate(\(String(format: "%.1f", x)) \(String(format: "%.1f", top - 4))) rotate(-60)\">\(escape(label))</text>\n"
        }
        out += "<text x=\(f(margin - 4)) y=\(f(top - 6)) text-anchor=\"end\" fill=\"#666\">query ↓ key →</text>\n"
        return out + "</svg>\n"
    }

    static func f(_ v: Double) -> String { "\"" + String(format: "%.1f", v) + "\"" }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\n", with: "↵")
    }
}

/// Labelled points as an SVG scatter plot (the PCA of embeddings).
enum ScatterSVG {
    static func render(_ points: [(x: Double, y: Double)], labels: [String], title: String) -> String {
        let width = 640.0, height = 480.0, pad = 50.0
        let xs = points.map(\.x), ys = points.map(\.y)
        let (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        func px(_ x: Double) -> Double { pad + (x - x0) / max(x1 - x0, 1e-12) * (width - 2 * pad) }
        func py(_ y: Double) -> Double { height - pad - (y - y0) / max(y1 - y0, 1e-12) * (height - 2 * pad) }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" font-size="13">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="14">\(HeatmapSVG.escape(title))</text>
        <rect x="\(Int(pad / 2))" y="\(Int(pad / 2))" width="\(Int(width - pad))" height="\(Int(height - pad))" fill="none" stroke="#ccc"/>

        """
        for (p, label) in zip(points, labels) {
            out += "<circle cx=\(HeatmapSVG.f(px(p.x))) cy=\(HeatmapSVG.f(py(p.y))) r=\"4\" fill=\"#1f5fa8\"/>"
            out += "<text x=\(HeatmapSVG.f(px(p.x) + 6)) y=\(HeatmapSVG.f(py(p.y) - 6))>\(HeatmapSVG.escape(label))</text>\n"
        }
        return out + "</svg>\n"
    }
}
