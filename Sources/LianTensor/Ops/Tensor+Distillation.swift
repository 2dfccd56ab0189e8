import Foundation
import LianKernels

/// Which divergence distillation minimizes.
public enum DistillationDivergence: String, Codable, Sendable, CaseIterable {
    /// KL(teacher ‖ student): the student covers everything the teacher finds likely (Hinton et al.).
    case forward
    /// KL(student ‖ teacher): the student commits to the teacher's modes (MiniLLM).
    case reverse
    /// The mean of the two.
    case symmetric
}

/// The teacher's predictions for each row: its logits on a set of token ids — all of them, or its
/// top k (a cache). With top k, both distributions are taken on those k ids (the teacher's is
/// renormalized over them; the student's full softmax is used for the forward divergence and its
/// renormalization over the k for the reverse one); with all ids this is exact.
public struct TeacherPredictions: Sendable {
    /// [N, k] token ids and the teacher's logits for them.
    public var ids: [Int32]
    public var logits: [Float]
    public var k: Int

    public init(ids: [Int32], logits: [Float], k: Int) {
        precondition(ids.count == logits.count && k > 0 && ids.count % k == 0, "[distill] ids and logits must be [N, k]")
        self.ids = ids; self.logits = logits; self.k = k
    }

    /// Every id of a full [N, V] logits tensor.
    public init(fullLogits: Tensor) {
        let v = fullLogits.shape.last ?? 1
        let n = fullLogits.count / v
        self.init(ids: (0..<n).flatMap { _ in (0..<v).map { Int32($0) } }, logits: fullLogits.scalars, k: v)
    }

    /// The k largest logits of each row of [N, V] logits (descending; ties by lower id).
    public static func topK(_ logits: Tensor, k: Int) -> TeacherPredictions {
        let v = logits.shape.last ?? 1, n = logits.count / v, kk = min(k, v)
        let s = logits.scalars
        var ids = [Int32](), values = [Float]()
        ids.reserveCapacity(n * kk); values.reserveCapacity(n * kk)
        // One pass per row keeping the k best in order (insertion; most values fail the first test).
        var bestIDs = [Int32](repeating: 0, count: kk), bestValues = [Float](repeating: 0, count: kk)
        for r in 0..<n {
            var filled = 0
            for j in 0..<v {
                let x = s[r * v + j]
                if filled == kk && x <= bestValues[kk - 1] { continue }
                var at = min(filled, kk - 1)
                while at > 0 && bestValues[at - 1] < x { at -= 1 }
                // Shift down from `at`, dropping the last when full.
                var m = min(filled, kk - 1)
                while m > at { bestValues[m] = bestValues[m - 1]; bestIDs[m] = bestIDs[m - 1]; m -= 1 }
                bestValues[at] = x; bestIDs[at] = Int32(j)
                filled = min(filled + 1, kk)
            }
            ids += bestIDs; values += bestValues
        }
        return TeacherPredictions(ids: ids, logits: values, k: kk)
    }
}

extension Tensor {
    /// Knowledge-distillation loss, averaged over the rows whose `targets` are not `ignoreIndex`:
    ///
    ///     α · T² · D(teacher_T, student_T) + (1 − α) · CE(student, targets)
    ///
    /// with softmax at temperature T and D the chosen divergence. Student logits [N, V].
    /// Gradient with respect to the student logits z (per row, s = softmax(z/T), p the teacher's):
    ///   forward:  α·T·(s − p)                      (p zero outside the teacher's ids)
    ///   reverse:  α·T·q_i·(log q_i − log p_i − KL)  on the ids, q the student renormalized there
    ///   plus (1 − α)·(softmax(z) − onehot(target)) for the cross-entropy.
    public static func distillationLoss(student: Tensor, teacher: TeacherPredictions, targets: IndexTensor,
                                        temperature: Float, alpha: Float, divergence: DistillationDivergence,
                                        ignoreIndex: Int32 = -100) -> Tensor {
        let v = student.shape.last ?? 1, n = student.count / v, k = teacher.k
        precondition(teacher.ids.count == n * k, "[distill] teacher has \(teacher.ids.count / k) rows, student \(n)")
        precondition(targets.count == n, "[distill] \(targets.count) targets for \(n) rows")
        precondition(temperature > 0 && alpha >= 0 && alpha <= 1, "[distill] need T > 0 and 0 ≤ α ≤ 1")
        let t = Double(temperature), a = Double(alpha)
        let z = student.scalars
        var total = 0.0, counted = 0
        // Per row: the gradient with respect to z, before dividing by the counted rows.
        var grad = [Float](repeating: 0, count: n * v)
        for r in 0..<n {
            let target = targets.values[r]
            if target == ignoreIndex { continue }
            counted += 1
            let row = z[(r * v)..<((r + 1) * v)].map(Double.init)
            // Student at temperature T over the whole vocabulary.
            let mT = row.max()!
            let eT = row.map { Foundation.exp(($0 - mT) / t) }
            let sumT = eT.reduce(0, +)
            let logSumT = Foundation.log(sumT)
            // Teacher on its ids at temperature T.
            let tid = teacher.ids[(r * k)..<((r + 1) * k)].map(Int.init)
            let tl = teacher.logits[(r * k)..<((r + 1) * k)].map(Double.init)
            let mt = tl.max()!
            let et = tl.map { Foundation.exp(($0 - mt) / t) }
            let st = et.reduce(0, +)
            let p = et.map { $0 / st }
            let logP = tl.map { ($0 - mt) / t - Foundation.log(st) }
            var g = [Double](repeating: 0, count: v)
            var kl = 0.0
            if divergence != .reverse {
                // KL(p ‖ s) = Σ p (log p − log s);   ∂/∂z = (s − p)/T
                var forward = 0.0
                for (j, id) in tid.enumerated() { forward += p[j] * (logP[j] - ((row[id] - mT) / t - logSumT)) }
                let w = divergence == .symmetric ? 0.5 : 1.0
                kl += w * forward
                for i in 0..<v { g[i] += w * a * t * (eT[i] / sumT) }
                for (j, id) in tid.enumerated() { g[id] -= w * a * t * p[j] }
            }
            if divergence != .forward {
                // q = student renormalized over the teacher's ids; KL(q ‖ p) = Σ q (log q − log p)
                let logits = tid.map { (row[$0] - mT) / t }
                let mq = logits.max()!
                let eq = logits.map { Foundation.exp($0 - mq) }
                let sq = eq.reduce(0, +)
                let q = eq.map { $0 / sq }
                let logQ = logits.map { $0 - mq - Foundation.log(sq) }
                var reverse = 0.0
                for j in 0..<k { reverse += q[j] * (logQ[j] - logP[j]) }
                let w = divergence == .symmetric ? 0.5 : 1.0
                kl += w * reverse
                for (j, id) in tid.enumerated() { g[id] += w * a * t * q[j] * (logQ[j] - logP[j] - reverse) }
            }
            // Cross-entropy with the hard target at temperature 1.
            var ce = 0.0
            if a < 1 {
                let m1 = row.max()!
                let e1 = row.map { Foundation.exp($0 - m1) }
                let s1 = e1.reduce(0, +)
                ce = Foundation.log(s1) - (row[Int(target)] - m1)
                for i in 0..<v { g[i] += (1 - a) * e1[i] / s1 }
                g[Int(target)] -= (1 - a)
            }
            total += a * t * t * kl + (1 - a) * ce
            for i in 0..<v { grad[r * v + i] = Float(g[i]) }
        }
        var out = Tensor(counted > 0 ? Float(total / Double(counted)) : 0)
        let shape = student.shape
        let scale = counted > 0 ? 1 / Float(counted) : 0
        record(&out, from: [student]) { g, _ in
            let factor = g.item * scale
            return [Tensor(shape: shape, values: grad.map { $0 * factor })]
        }
        return out
    }
}
