import Foundation
import LianKernels
import LianTensor
import LianTestSupport
import Testing

@Suite struct DistillationLossTests {
    @Test func handComputedForwardKL() {
        // Student uniform over two tokens, teacher 3:1 → KL = ¾·ln(¾/½) + ¼·ln(¼/½).
        var z = Tensor(shape: [1, 2], values: [0, 0]); z.requiresGrad = true
        let teacher = TeacherPredictions(fullLogits: Tensor(shape: [1, 2], values: [Float(log(3.0)), 0]))
        let loss = Tensor.distillationLoss(student: z, teacher: teacher, targets: IndexTensor(shape: [1], values: [0]),
                                           temperature: 1, alpha: 1, divergence: .forward)
        let expected = 0.75 * log(1.5) + 0.25 * log(0.5)
        #expect(abs(Double(loss.item) - expected) < 1e-6)
        loss.backward()
        #expect(compare(z.grad!.scalars, [-0.25, 0.25], atol: 1e-6, rtol: 0).0, "s − p")
    }

    @Test func alphaZeroIsPlainCrossEntropy() {
        var rng = SeededRandom(seed: 2)
        var z = Tensor.randomNormal([5, 7], rng: &rng); z.requiresGrad = true
        let targets = IndexTensor(shape: [5], values: [1, -100, 6, 0, 3])
        let teacher = TeacherPredictions(fullLogits: Tensor.randomNormal([5, 7], rng: &rng))
        let kd = Tensor.distillationLoss(student: z, teacher: teacher, targets: targets, temperature: 2, alpha: 0, divergence: .forward)
        kd.backward()
        var z2 = z.detached(); z2.requiresGrad = true
        let ce = Tensor.crossEntropy(logits: z2, targets: targets)
        ce.backward()
        #expect(abs(kd.item - ce.item) < 1e-5)
        #expect(compare(z.grad!.scalars, z2.grad!.scalars, atol: 1e-6, rtol: 1e-5).0)
    }

    /// Central differences on every student logit, for each divergence, with full and top-3
    /// teachers, a temperature and a blend with cross-entropy, and an ignored row.
    @Test(arguments: DistillationDivergence.allCases) func gradientMatchesFiniteDifferences(_ divergence: DistillationDivergence) {
        var rng = SeededRandom(seed: 7)
        let (n, v) = (4, 6)
        let z0 = Tensor.randomNormal([n, v], rng: &rng)
        let teacherLogits = Tensor.randomNormal([n, v], std: 2, rng: &rng)
        let targets = IndexTensor(shape: [n], values: [2, 5, -100, 0])
        for teacher in [TeacherPredictions(fullLogits: teacherLogits), TeacherPredictions.topK(teacherLogits, k: 3)] {
            func loss(_ values: [Float]) -> Double {
                Double(Tensor.distillationLoss(student: Tensor(shape: [n, v], values: values), teacher: teacher, targets: targets,
                                               temperature: 1.5, alpha: 0.7, divergence: divergence).item)
            }
            var z = z0; z.requiresGrad = true
            Tensor.distillationLoss(student: z, teacher: teacher, targets: targets, temperature: 1.5, alpha: 0.7, divergence: divergence).backward()
            let analytic = z.grad!.scalars
            let base = z0.scalars
            for i in base.indices {
                var up = base, down = base
                up[i] += 1e-2; down[i] -= 1e-2
                let numeric = (loss(up) - loss(down)) / 2e-2
                #expect(abs(numeric - Double(analytic[i])) < 2e-3, "\(divergence) k=\(teacher.k) logit \(i): \(numeric) vs \(analytic[i])")
            }
        }
    }

    @Test func topKKeepsTheLargestLogits() {
        let t = TeacherPredictions.topK(Tensor(shape: [2, 4], values: [0.1, 3, -1, 2, 5, 5, 0, 1]), k: 2)
        #expect(t.ids == [1, 3, 0, 1] && t.logits == [3, 2, 5, 5])
    }
}
