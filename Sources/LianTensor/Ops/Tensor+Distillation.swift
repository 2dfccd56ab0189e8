import Foundation
import LianKernels

struct SendableDoublePointer: @unchecked Sendable { let base: UnsafeMutablePointer<Double> }
struct SendableInt32Pointer: @unchecked Sendable { let base: UnsafeMutablePointer<Int32> }

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
        let (wf, wr): (Float, Float) = divergence == .forward ? (1, 0) : divergence == .reverse ? (0, 1) : (0.5, 0.5)
        var grad = [Float](repeating: 0, count: n * v)
        var rowLoss = [Double](repeating: 0, count: n)
        for r in 0..<n {
            let target = targets.values[r]
            if target != ignoreIndex { precondition(target >= 0 && Int(target) < v, "[distill] target \(target) at row \(r) is outside 0..<\(v)") }
        }
        // Rows in parallel, each in SIMD passes (LianKernels/Transformer/Distillation.swift).
        let counted = targets.values.filter { $0 != ignoreIndex }.count
        grad.withUnsafeMutableBufferPointer { g in
            rowLoss.withUnsafeMutableBufferPointer { l in
                teacher.ids.withUnsafeBufferPointer { ti in
                    teacher.logits.withUnsafeBufferPointer { tl in
                        let G = SendablePointer(g.baseAddress!), L = SendableDoublePointer(base: l.baseAddress!)
                        let TI = SendableInt32Pointer(base: UnsafeMutablePointer(mutating: ti.baseAddress!))
                        let TL = SendablePointer(UnsafeMutablePointer(mutating: tl.baseAddress!))
                        let Z = SendablePointer(UnsafeMutablePointer(mutating: student.pointer))
                        let tv = targets.values
                        parallelChunks(n, minChunk: Swift.max(1, 4096 / Swift.max(1, v))) { range in
                            for r in range where tv[r] != ignoreIndex {
                                L.base[r] = Distillation.row(z: Z.base + r * v, vocab: v, teacherIDs: TI.base + r * k, teacherLogits: TL.base + r * k,
                                                             k: k, target: Int(tv[r]), temperature: temperature, alpha: alpha,
                                                             forwardWeight: wf, reverseWeight: wr, grad: G.base + r * v)
                            }
                        }
                    }
                }
            }
        }
        let total = rowLoss.reduce(0, +)
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
