// Knowledge distillation: the loss of one row and its gradient with respect to the student's
// logits, in SIMD passes over the vocabulary and a sparse pass over the teacher's k ids.
//
// z: student logits [V]; teacher ids/logits [k]; T temperature; α blend; target the hard label.
//   s = softmax(z/T), p = softmax(teacher/T) on its ids, q = s renormalized on those ids
//   forward  KL(p‖s) = Σ p (log p − log s)          ∂/∂z = (s − p)/T
//   reverse  KL(q‖p) = Σ q (log q − log p)          ∂/∂z_i = q_i (log q_i − log p_i − KL)/T on the ids
//   loss = α·T²·(w_f·forward + w_r·reverse) + (1 − α)·CE(softmax(z), target)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Distillation {
    /// Writes the row's gradient (for the row's loss, not yet averaged) into `grad` [V] and
    /// returns the row's loss. `forwardWeight`/`reverseWeight`: 1/0, 0/1 or ½/½.
    public static func row(
        z: UnsafePointer<Float>, vocab v: Int, teacherIDs: UnsafePointer<Int32>, teacherLogits: UnsafePointer<Float>, k: Int,
        target: Int, temperature t: Float, alpha a: Float, forwardWeight wf: Float, reverseWeight wr: Float,
        grad: UnsafeMutablePointer<Float>
    ) -> Double {
        // Student: max, then exp((z − m)/T) into grad as scratch, and its sum.
        var mv = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= v { mv = pointwiseMax(mv, load16(z + i)); i += 16 }
        var m = mv.max()
        while i < v { m = max(m, z[i]); i += 1 }
        let invT = 1 / t
        var sumT = 0.0
        i = 0
        while i + 16 <= v {
            let e = simdExp((load16(z + i) - SIMD16(repeating: m)) * invT)
            store16(e, grad + i); sumT += Double(e.sum()); i += 16
        }
        if i < v {
            let e = simdExp((loadPartial(z + i, v - i) - SIMD16(repeating: m)) * invT)
            storePartial(e, grad + i, v - i); for j in 0..<(v - i) { sumT += Double(e[j]) }
        }
        let logSumT = log(sumT)
        // The plain softmax for the cross-entropy (the same as s when T = 1).
        var sum1 = sumT, needsPlain = false
        if a < 1 && t != 1 {
            needsPlain = true
            sum1 = 0
            i = 0
            while i + 16 <= v { sum1 += Double(simdExp(load16(z + i) - SIMD16(repeating: m)).sum()); i += 16 }
            if i < v { let e = simdExp(loadPartial(z + i, v - i) - SIMD16(repeating: m)); for j in 0..<(v - i) { sum1 += Double(e[j]) } }
        }
        // Dense part of the gradient: α·T·w_f·s + (1 − α)·softmax(z).
        let cF = Float(Double(a * t * wf) / sumT), cCE = Float(Double(1 - a) / sum1)
        i = 0
        while i + 16 <= v {
            var g = load16(grad + i) * cF
            if a < 1 { g += (needsPlain ? simdExp(load16(z + i) - SIMD16(repeating: m)) : load16(grad + i)) * cCE }
            store16(g, grad + i); i += 16
        }
        if i < v {
            let n = v - i
            var g = loadPartial(grad + i, n) * cF
            if a < 1 { g += (needsPlain ? simdExp(loadPartial(z + i, n) - SIMD16(repeating: m)) : loadPartial(grad + i, n)) * cCE }
            storePartial(g, grad + i, n)
        }
        // Teacher on its ids at T (k is small: scalar, in Double).
        var mt = -Double.infinity
        for j in 0..<k { mt = max(mt, Double(teacherLogits[j])) }
        var st = 0.0
        for j in 0..<k { st += exp((Double(teacherLogits[j]) - mt) / Double(t)) }
        let logSt = log(st)
        var kl = 0.0
        if wf > 0 {
            var forward = 0.0
            for j in 0..<k {
                let logP = (Double(teacherLogits[j]) - mt) / Double(t) - logSt, p = exp(logP)
                let id = Int(teacherIDs[j])
                forward += p * (logP - ((Double(z[id]) - Double(m)) / Double(t) - logSumT))
                grad[id] -= Float(Double(a * t * wf) * p)
            }
            kl += Double(wf) * forward
        }
        if wr > 0 {
            var mq = -Double.infinity
            for j in 0..<k { mq = max(mq, Double(z[Int(teacherIDs[j])]) / Double(t)) }
            var sq = 0.0
            for j in 0..<k { sq += exp(Double(z[Int(teacherIDs[j])]) / Double(t) - mq) }
            var reverse = 0.0
            for j in 0..<k {
                let logQ = Double(z[Int(teacherIDs[j])]) / Double(t) - mq - log(sq)
                let logP = (Double(teacherLogits[j]) - mt) / Double(t) - logSt
                reverse += exp(logQ) * (logQ - logP)
            }
            for j in 0..<k {
                let logQ = Double(z[Int(teacherIDs[j])]) / Double(t) - mq - log(sq)
                let logP = (Double(teacherLogits[j]) - mt) / Double(t) - logSt
                grad[Int(teacherIDs[j])] += Float(Double(a * t * wr) * exp(logQ) * (logQ - logP - reverse))
            }
            kl += Double(wr) * reverse
        }
        var ce = 0.0
        if a < 1 {
            ce = log(sum1) - (Double(z[target]) - Double(m))
            grad[target] -= 1 - a
        }
        return Double(a * t * t) * kl + Double(1 - a) * ce
    }
}
