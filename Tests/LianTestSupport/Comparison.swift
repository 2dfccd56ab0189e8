/// The largest difference between two arrays, and where it is, for failure messages.
public struct Difference: CustomStringConvertible {
    public let value: Double
    public let index: Int
    public let actual: Double
    public let expected: Double

    public var description: String {
        "largest difference \(value) at index \(index) (got \(actual), expected \(expected))"
    }
}

/// The element where |actual − expected| − rtol·|expected| is largest; `passes` tells whether
/// every element is within atol + rtol·|expected| (the documented "approximately equal" of the
/// tests, as numpy.allclose defines it).
public func compare<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(
    _ actual: [A], _ expected: [B], atol: Double, rtol: Double
) -> (passes: Bool, worst: Difference) {
    precondition(actual.count == expected.count, "compare: \(actual.count) values against \(expected.count)")
    var worst = Difference(value: 0, index: -1, actual: 0, expected: 0)
    var worstExcess = -Double.infinity
    var passes = true
    for i in 0..<actual.count {
        let a = Double(actual[i]), e = Double(expected[i])
        let d = abs(a - e)
        let excess = d - (atol + rtol * abs(e))
        if !(excess <= 0) { passes = false }
        if excess > worstExcess || d.isNaN { worstExcess = d.isNaN ? .infinity : excess; worst = Difference(value: d, index: i, actual: a, expected: e) }
    }
    return (passes, worst)
}

/// Where two arrays first differ in their bits ("index i: a vs b"), or nil when they are the same
/// bits: for tests that expect identical results, without printing whole arrays when they fail.
public func firstBitDifference(_ a: [Float], _ b: [Float]) -> String? {
    guard a.count == b.count else { return "\(a.count) values against \(b.count)" }
    guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
    return "index \(i): \(a[i]) vs \(b[i])"
}
