import ArgumentParser
import Foundation
import LianData
import LianNN
import LianTensor
import LianTokenizer
import LianTraining

/// `lian distill`: train a small model from a big one (and the data).
struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distill a teacher into a student: α·T²·KL(teacher_T ‖ student_T) + (1 − α)·cross-entropy.",
        discussion: """
        Teacher and student share the tokenizer. With --cache the teacher's top-k logits are computed once over \
        the training shard (out/teacher-cache.safetensors) and training reads them; without it the teacher runs \
        on every batch. Everything `lian train` has: schedule, clipping, evaluation, checkpoints, Ctrl-C, --resume.
        """)

    @Option(help: "The teacher model folder.") var teacher: String?
    @Option(help: "A student model folder to start from.") var student: String?
    @Option(help: "Or a student preset: tiny, small, llama-tiny, llama-small.") var studentPreset: String?
    @Option(help: "Or a run.json training config for the student (its data and out are overridden by the flags).") var config: String?
    @Option(help: "Folder with train.bin and val.bin.") var data: String?
    @Option(help: "Output folder.") var out: String?
    @Option(help: "tokenizer.json the shards were made with.") var tokenizer: String?
    @Option(help: "Softmax temperature T.") var temperature: Float = 2
    @Option(help: "Weight of the distillation term (1 − α on the cross-entropy).") var alpha: Float = 0.5
    @Option(help: "forward, reverse or symmetric KL.") var divergence: String = "forward"
    @Option(help: "Teacher logits kept per position.") var topK: Int = 64
    @Flag(help: "Compute the teacher's top-k once over the training shard and train from that cache.") var cache = false
    @OptionGroup var overrides: TrainingOverrides
    @Option(help: "Continue from this checkpoint folder.") var resume: String?

    func run() throws {
        let trainer: Trainer
        do {
            if let resume {
                trainer = try Trainer.resume(from: URL(fileURLWithPath: resume))
            } else {
                guard let teacher, let data, let out else { throw ValidationError("give --teacher DIR, --data DIR and --out DIR (or --resume)") }
                guard let kind = DistillationDivergence(rawValue: divergence) else { throw ValidationError("--divergence must be forward, reverse or symmetric") }
                let vocabulary = try tokenizer.map { try loadTokenizer($0).vocabularySize }
                var c: TrainingConfig
                var start: (any LanguageModel)?
                if let student {
                    let model: any LanguageModel
                    do { model = try HuggingFaceFolder.loadModel(from: URL(fileURLWithPath: student)) } catch let e as ModelError { throw CLIError(e.description) }
                    c = try TrainingPresets.config("tiny", vocabularySize: model.vocabularySize, data: data, out: out)
                    c.model = model.configuration
                    c.context = min(c.context, model.contextLength)
                    start = model
                } else if let config {
                    c = try TrainingConfig.load(URL(fileURLWithPath: config))
                    c.data = data; c.out = out
                } else {
                    c = try TrainingPresets.config(studentPreset ?? "tiny", vocabularySize: vocabulary ?? 8192, data: data, out: out)
                }
                var d = DistillationConfig(teacher: teacher)
                d.temperature = temperature; d.alpha = alpha; d.divergence = kind; d.topK = topK
                overrides.apply(to: &c)
                if cache {
                    let url = URL(fileURLWithPath: out).appendingPathComponent("teacher-cache.safetensors")
                    if !FileManager.default.fileExists(atPath: url.path) { try Self.buildCache(teacher: teacher, data: data, context: c.context, k: topK, to: url) }
                    d.teacherCache = url.path
                }
                c.distillation = d
                try c.validate()
                let tokenizerURL = tokenizer.map { URL(fileURLWithPath: $0) }
                trainer = try start.map { try Trainer(config: c, startingFrom: $0, tokenizerFile: tokenizerURL) } ?? Trainer(config: c, tokenizerFile: tokenizerURL)
            }
        } catch let error as TrainingError { throw CLIError(error.description) }
        let c = trainer.config
        guard let d = c.distillation else {
            throw CLIError("\(resume ?? c.out): this run does not distill; continue it with lian train --resume")
        }
        say("distilling \(d.teacher) into a \(c.model.modelType) student of \(trainer.model.parameterCount) parameters: T = \(d.temperature), α = \(d.alpha), \(d.divergence.rawValue) KL, " + (d.teacherCache.map { "teacher cache \($0)" } ?? "live teacher, top \(d.topK)"))
        try runWithProgress(trainer, config: trainer.config, command: "distill")
    }

    static func buildCache(teacher: String, data: String, context: Int, k: Int, to url: URL) throws {
        let model: any LanguageModel
        do { model = try HuggingFaceFolder.loadModel(from: URL(fileURLWithPath: teacher)) } catch let e as ModelError { throw CLIError(e.description) }
        let shard: TokenShard
        do { shard = try TokenShard(url: URL(fileURLWithPath: data).appendingPathComponent("train.bin")) } catch let e as DataError { throw CLIError(e.description) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let line = ProgressLine("teacher cache")
        try TeacherCache.build(teacher: model, shard: shard, context: context, k: k, to: url) { done, total in
            line.update(Double(done), of: Double(total), unit: "windows")
        }
        line.finish("\(url.path)")
    }
}
