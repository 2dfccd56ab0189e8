import Foundation

/// A line chart as a standalone SVG file (opens in any browser): loss curves against tokens seen
/// or seconds. No dependencies; axes get "nice" round ticks.
public struct LossPlot {
    public struct Series {
        public var name: String
        public var color: String
        public var points: [(x: Double, y: Double)]
        /// Drawn thin and faint (raw training loss) or bold with dots (validation).
        public var emphasized: Bool
        public init(name: String, color: String, points: [(x: Double, y: Double)], emphasized: Bool) {
            self.name = name; self.color = color; self.points = points; self.emphasized = emphasized
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel = "loss"
    public var series: [Series] = []

    public init(title: String, xLabel: String) { self.title = title; self.xLabel = xLabel }

    /// Training loss (raw and smoothed) and validation loss of a run against tokens seen.
    public static func run(_ metrics: [TrainingMetric], title: String) -> LossPlot {
        var plot = LossPlot(title: title, xLabel: "tokens seen")
        let train = metrics.compactMap { m in m.loss.flatMap { $0.isFinite ? (Double(m.tokens), Double($0)) : nil } }
        plot.series.append(Series(name: "train", color: "#7aa6d6", points: train, emphasized: false))
        plot.series.append(Series(name: "train (smoothed)", color: "#1f5fa8", points: exponentialAverage(train, weight: 0.9), emphasized: false))
        let validation = metrics.compactMap { m in m.validationLoss.map { (Double(m.tokens), Double($0)) } }
        plot.series.append(Series(name: "validation", color: "#d1495b", points: validation, emphasized: true))
        return plot
    }

    /// Bias-corrected exponential moving average (as TensorBoard smooths).
    public static func exponentialAverage(_ points: [(x: Double, y: Double)], weight: Double) -> [(x: Double, y: Double)] {
        var average = 0.0, correction = 1.0
        return points.map { p in
            average = weight * average + (1 - weight) * p.y
            correction *= weight
            return (p.x, average / (1 - correction))
        }
    }

    public func svg() -> String {
        let width = 720.0, height = 420.0, left = 64.0, right = 20.0, top = 40.0, bottom = 52.0
        let all = series.flatMap(\.points)
        guard !all.isEmpty else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"80\"><text x=\"10\" y=\"40\" font-family=\"sans-serif\">\(escape(title)): no data yet</text></svg>\n"
        }
        let xTicks = Self.niceTicks(all.map(\.x).min()!, all.map(\.x).max()!)
        let yTicks = Self.niceTicks(all.map(\.y).min()!, all.map(\.y).max()!)
        let x0 = xTicks.first!, x1 = xTicks.last!, y0 = yTicks.first!, y1 = yTicks.last!
        func px(_ x: Double) -> Double { left + (x - x0) / max(x1 - x0, 1e-12) * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - (y - y0) / max(y1 - y0, 1e-12) * (height - top - bottom) }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        for t in xTicks {
            out += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(height - bottom))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(px(t)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
        }
        for t in yTicks {
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(width - right))\" y2=\"\(f(py(t)))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left - right))\" height=\"\(f(height - top - bottom))\" fill=\"none\" stroke=\"#888\"/>\n"
        out += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        out += "<text transform=\"translate(16 \(f((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for s in series where !s.points.isEmpty {
            let path = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"\(s.emphasized ? 2.5 : 1.2)\" points=\"\(path)\"/>\n"
            if s.emphasized {
                for p in s.points { out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(s.color)\"/>" }
                out += "\n"
            }
        }
        // Legend, top right.
        for (i, s) in series.enumerated() {
            let y = top + 16 + Double(i) * 18, x = width - right - 170
            out += "<line x1=\"\(f(x))\" y1=\"\(f(y - 4))\" x2=\"\(f(x + 24))\" y2=\"\(f(y - 4))\" stroke=\"\(s.color)\" stroke-width=\"\(s.emphasized ? 2.5 : 1.5)\"/>"
            var name = s.name
            if let last = s.points.last { name += String(format: " (%.3f)", last.y) }
            out += "<text x=\"\(f(x + 30))\" y=\"\(f(y))\">\(escape(name))</text>\n"
        }
        return out + "</svg>\n"
    }

    public func write(to url: URL) throws {
        try Data(svg().utf8).write(to: url, options: .atomic)
    }

    /// Round tick values covering [low, high]: steps of 1, 2 or 5 × 10ⁿ, about five of them.
    static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        var low = low, high = high
        if high - low < 1e-9 { low -= 0.5; high += 0.5 }
        let raw = (high - low) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!
        let first = floor(low / step) * step, last = ceil(high / step) * step
        return stride(from: first, through: last + step / 2, by: step).map { $0 }
    }

    static func label(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e9 { return String(format: "%gG", v / 1e9) }
        if a >= 1e6 { return String(format: "%gM", v / 1e6) }
        if a >= 1e4 { return String(format: "%gk", v / 1e3) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }

    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
