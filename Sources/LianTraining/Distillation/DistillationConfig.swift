import Foundation
import LianTensor

/// Teaching the model being trained from a bigger one: the `"distillation"` block of a training
/// config. Loss = α · T² · D(teacher_T ‖ student_T) + (1 − α) · cross-entropy. Teacher and
/// student must share the tokenizer (same vocabulary); Lian does not map between tokenizers.
public struct DistillationConfig: Codable, Equatable, Sendable {
    /// The teacher's Hugging Face folder.
    public var teacher: String
    /// A teacher cache (`lian distill cache`); without one the teacher runs live on every batch.
    public var teacherCache: String?
    public var temperature: Float = 2
    public var alpha: Float = 0.5
    public var divergence: DistillationDivergence = .forward
    /// Teacher logits kept per position (live teacher; a cache has its own k).
    public var topK = 64

    public init(teacher: String, teacherCache: String? = nil) { self.teacher = teacher; self.teacherCache = teacherCache }

    enum CodingKeys: String, CodingKey {
        case teacher, temperature, alpha, divergence
        case teacherCache = "teacher_cache", topK = "top_k"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        teacher = try c.decode(String.self, forKey: .teacher)
        teacherCache = try c.decodeIfPresent(String.self, forKey: .teacherCache)
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? 2
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? 0.5
        divergence = try c.decodeIfPresent(DistillationDivergence.self, forKey: .divergence) ?? .forward
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? 64
    }

    func validate(path: String) throws {
        var problems: [String] = []
        if !(temperature > 0) { problems.append("distillation.temperature must be positive") }
        if !(alpha >= 0 && alpha <= 1) { problems.append("distillation.alpha must be in [0, 1]") }
        if topK <= 0 { problems.append("distillation.top_k must be positive") }
        if !problems.isEmpty { throw TrainingError(path: path, problems.joined(separator: "; ")) }
    }
}
