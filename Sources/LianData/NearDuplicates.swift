import Foundation
import LianKernels

/// Near-duplicate detection with MinHash and locality-sensitive hashing.
///
/// Each document becomes a set of shingles (n-grams of units: characters for Han/kana/hangul,
/// words elsewhere; see `Shingler`). Its MinHash signature keeps, for each of `permutations` hash
/// functions, the smallest hash over the set; two signatures agree in a fraction of places that
/// estimates the sets' Jaccard similarity. Signatures are cut into `bands` bands of `rows` values;
/// documents sharing any band are candidates. Candidates are verified with the exact Jaccard
/// similarity of their shingle sets (so there are no false positives) and joined into clusters
/// (union-find). Bands and rows default to the split that makes a pair exactly at the threshold a
/// candidate with probability ≥ 0.95 while letting the fewest pairs 0.2 below it through — recall
/// first, since verification removes the extra candidates. (datasketch's default instead balances
/// false positives and negatives, and misses ~60% of pairs right at the threshold.)
public struct NearDuplicateFinder: Sendable {
    public var threshold: Double
    public var permutations: Int
    public var shingleSize: Int
    public var bands: Int
    public var rows: Int
    public var seed: UInt64

    public init(threshold: Double = 0.8, permutations: Int = 128, shingleSize: Int = 5, bands: Int? = nil, rows: Int? = nil,
                seed: UInt64 = 1) {
        self.threshold = threshold
        self.permutations = permutations
        self.shingleSize = shingleSize
        let (b, r) = Self.optimalBands(threshold: threshold, permutations: permutations)
        self.bands = bands ?? b
        self.rows = rows ?? r
        self.seed = seed
    }

    /// The (bands, rows), bands·rows ≤ permutations, that make a pair of similarity `t` a candidate
    /// with probability ≥ 0.95 and admit the fewest pairs of similarity t − 0.2.
    public static func optimalBands(threshold t: Double, permutations: Int) -> (Int, Int) {
        func candidate(_ s: Double, _ b: Int, _ r: Int) -> Double { 1 - pow(1 - pow(s, Double(r)), Double(b)) }
        var best = (permutations, 1), bestLeak = Double.infinity
        for r in 1...permutations {
            let b = permutations / r
            guard b >= 1, candidate(t, b, r) >= 0.95 else { continue }
            let leak = candidate(max(0, t - 0.2), b, r)
            if leak < bestLeak { bestLeak = leak; best = (b, r) }
        }
        return best
    }

    /// MinHash signatures of many texts (threads take documents one at a time).
    public func signatures(_ texts: [String]) -> [[UInt32]] {
        let hasher = MinHasher(permutations: permutations, seed: seed)
        var result = [[UInt32]](repeating: [], count: texts.count)
        let n = shingleSize
        result.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            parallelDynamic(texts.count) { i in out.base[i] = hasher.signature(units: Shingler.units(texts[i]), shingleSize: n) }
        }
        return result
    }

    /// The permutations' hash functions, for signatures computed one document at a time.
    public var hasher: MinHasher { MinHasher(permutations: permutations, seed: seed) }

    /// SplitMix64's finaliser: a fast, well-mixed 64-bit hash.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The fraction of places where two signatures agree.
    public static func estimatedJaccard(_ a: [UInt32], _ b: [UInt32]) -> Double {
        var equal = 0
        for i in a.indices where a[i] == b[i] { equal += 1 }
        return Double(equal) / Double(max(1, a.count))
    }

    /// Pairs (i < j) whose signatures share at least one band: the candidates to verify.
    /// Bands on all cores; in each, the (band hash, document) pairs are sorted, so that the
    /// documents of a bucket are adjacent and in index order.
    public func candidatePairs(_ signatures: [[UInt32]]) -> [(Int, Int)] {
        guard !signatures.isEmpty else { return [] }
        let (bands, rows) = (self.bands, self.rows)
        var perBand = [[UInt64]](repeating: [], count: bands)
        perBand.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            // The band hash's top bits and the document's index in one word, sorted as plain
            // integers: buckets are runs of equal top bits. (Two band hashes that differ only in
            // the bits the index takes share a run: one more candidate, which the exact check
            // drops. With 10⁶ documents 44 hash bits remain.)
            let indexBits = Swift.max(1, Int.bitWidth - (signatures.count - 1).leadingZeroBitCount)
            parallelDynamic(bands) { band in
                var keyed: [UInt64] = []
                keyed.reserveCapacity(signatures.count)
                for (i, sig) in signatures.enumerated() {
                    var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(band)
                    for k in (band * rows)..<((band + 1) * rows) { h = Self.mix(h ^ UInt64(sig[k])) }
                    keyed.append((h >> indexBits) << indexBits | UInt64(i))
                }
                keyed.sort()
                let documentMask: UInt64 = (1 << indexBits) - 1
                var pairs: [UInt64] = []
                var runStart = 0
                for k in 1...keyed.count where k == keyed.count || keyed[k] >> indexBits != keyed[runStart] >> indexBits {
                    for x in runStart..<k {
                        for y in (x + 1)..<k { pairs.append((keyed[x] & documentMask) << 32 | (keyed[y] & documentMask)) }
                    }
                    runStart = k
                }
                out.base[band] = pairs
            }
        }
        var all = perBand.flatMap { $0 }
        all.sort()
        var result: [(Int, Int)] = []
        for (k, pair) in all.enumerated() where k == 0 || all[k - 1] != pair {
            result.append((Int(pair >> 32), Int(pair & 0xFFFF_FFFF)))
        }
        return result
    }

    /// Pairs (i < j) whose signatures share a band and whose shingle sets (sorted, from
    /// `shingleSets`) have Jaccard similarity ≥ threshold.
    public func similarPairs(_ signatures: [[UInt32]], shingleSets: [[UInt64]]) -> [(Int, Int)] {
        candidatePairs(signatures).filter { Self.jaccard(shingleSets[$0.0], shingleSets[$0.1]) >= threshold }
    }

    /// The sorted shingle sets of many texts.
    public func shingleSets(_ texts: [String]) -> [[UInt64]] {
        texts.map { Array(Shingler.shingles($0, n: shingleSize)).sorted() }
    }

    /// |A ∩ B| / |A ∪ B| of two sorted sets.
    public static func jaccard(_ a: [UInt64], _ b: [UInt64]) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        var x = 0, y = 0, common = 0
        while x < a.count && y < b.count {
            if a[x] == b[y] { common += 1; x += 1; y += 1 } else if a[x] < b[y] { x += 1 } else { y += 1 }
        }
        return Double(common) / Double(a.count + b.count - common)
    }
}

/// Groups indices joined by pairs (union-find); returns the groups of two or more, each sorted.
public func clusters(count: Int, pairs: [(Int, Int)]) -> [[Int]] {
    var parent = Array(0..<count)
    func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
        return x
    }
    for (a, b) in pairs { let (ra, rb) = (find(a), find(b)); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
    var groups: [Int: [Int]] = [:]
    for i in 0..<count { groups[find(i), default: []].append(i) }
    return groups.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
}

/// MinHash signatures. Permutation k hashes a shingle as h_k = a_k·lo + b_k·hi + c_k (mod 2³²),
/// then xor-shifts, where lo, hi are the halves of the shingle's 64-bit hash, already well
/// mixed, and a_k, b_k odd: sixteen permutations per SIMD vector instead of a 64-bit mix each.
/// Shingles are taken as they come, repeats included: the minimum over a multiset is the
/// minimum over its set, so no set is built.
public struct MinHasher: Sendable {
    let permutations: Int
    let a: [SIMD16<UInt32>], b: [SIMD16<UInt32>], c: [SIMD16<UInt32>]

    public init(permutations: Int, seed: UInt64) {
        self.permutations = permutations
        var rng = SeededRandom(seed: seed)
        var a = [SIMD16<UInt32>](), b = [SIMD16<UInt32>](), c = [SIMD16<UInt32>]()
        for _ in 0..<((permutations + 15) / 16) {
            var va = SIMD16<UInt32>(), vb = SIMD16<UInt32>(), vc = SIMD16<UInt32>()
            for lane in 0..<16 {
                let r = rng.next()
                va[lane] = UInt32(truncatingIfNeeded: r) | 1
                vb[lane] = UInt32(truncatingIfNeeded: r >> 32) | 1
                vc[lane] = UInt32(truncatingIfNeeded: rng.next())
            }
            a.append(va); b.append(vb); c.append(vc)
        }
        self.a = a; self.b = b; self.c = c
    }

    public func signature(units: [Shingler.Unit], shingleSize: Int) -> [UInt32] {
        // The shingles' mixed hashes first, then one pass over them per vector of 16
        // permutations: the vector's constants and running minimum stay in registers.
        var mixed: [UInt64] = []
        mixed.reserveCapacity(units.count)
        Shingler.forEachShingle(units: units, n: shingleSize) { mixed.append(NearDuplicateFinder.mix($0)) }
        var signature = [UInt32](repeating: .max, count: permutations)
        mixed.withUnsafeBufferPointer { xs in
            for v in 0..<a.count {
                let av = a[v], bv = b[v], cv = c[v]
                var minimum = SIMD16<UInt32>(repeating: .max)
                for x in xs {
                    var h = av &* SIMD16(repeating: UInt32(truncatingIfNeeded: x)) &+ bv &* SIMD16(repeating: UInt32(truncatingIfNeeded: x >> 32)) &+ cv
                    h ^= h &>> 15
                    minimum.replace(with: h, where: h .< minimum)
                }
                for lane in 0..<16 where v * 16 + lane < permutations { signature[v * 16 + lane] = minimum[lane] }
            }
        }
        return signature
    }
}
