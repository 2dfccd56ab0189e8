import ArgumentParser
import Foundation
import LianKernels
import LianNN
import LianTraining

/// `lian plan`: parameters, FLOPs, memory and time of a training step before running it.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Parameters, FLOPs per token, memory (weights, gradients, optimizer, activations) and time per step.")

    @Option(help: "A run.json training config.") var config: String?
    @Option(help: "A preset: tiny, small, llama-tiny, llama-small, gpt2-124m.") var preset: String?
    @Option(help: "A model folder (its config.json).") var model: String?
    @Option(help: "full, lora or qlora.") var method: String = "full"
    @Option(help: "LoRA rank.") var rank: Int = 8
    @Option(parsing: .upToNextOption, help: "LoRA targets (names or attention, mlp, all-linear).") var targets: [String] = ["attention"]
    @Option var batch: Int?
    @Option var context: Int?
    @Option(help: "Vocabulary size for presets.") var vocabSize: Int = 8192
    @Flag(help: "Skip measuring the matrix-multiply speed (no time estimate).") var noTime = false
    @Flag(help: "Also train the planned model itself for a few steps and print the gaps: peak resident memory, and its best step against the extrapolation (their steps alternating).") var check = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let m = TrainingPlan.Method(rawValue: method) else { throw ValidationError("--method must be full, lora or qlora") }
        var modelConfig: ModelConfiguration
        var b = 8, t = 256
        if let config {
            let c = try TrainingConfig.load(URL(fileURLWithPath: config))
            modelConfig = c.model; b = c.batchSize * c.microBatches; t = c.context
        } else if let model {
            let url = URL(fileURLWithPath: model).appendingPathComponent("config.json")
            do { modelConfig = try JSONDecoder().decode(ModelConfiguration.self, from: Data(contentsOf: url)) } catch {
                throw CLIError("\(url.path): cannot be read as a GPT-2 or LLaMA config.json (\(error))")
            }
            t = min(t, modelConfig.contextLength)
        } else if let preset {
            if preset == "gpt2-124m" {
                modelConfig = .gpt2(GPT2Config(vocabSize: 50257, contextLength: 1024, width: 768, layers: 12, heads: 12)); b = 4; t = 64
            } else {
                let c = try TrainingPresets.config(preset, vocabularySize: vocabSize, data: "", out: "")
                modelConfig = c.model; b = c.batchSize; t = c.context
            }
        } else {
            throw ValidationError("give --config run.json, --preset NAME or --model DIR")
        }
        b = batch ?? b; t = context ?? t
        guard t <= modelConfig.contextLength else { throw ValidationError("--context \(t) exceeds the model's \(modelConfig.contextLength)") }
        let lora = LoRAConfig(rank: rank, alpha: Float(2 * rank), targetModules: targets)
        // --check, memory: the planned model trains first, before anything else has run in this
        // process (what earlier work leaves in the heap would count), and the peak is read from
        // the moment the model is ready, as `bench train-step` and `bench finetune` count it.
        var checkedPeak: Double?
        if check {
            let harness = try SyntheticTrainingStep(config: modelConfig, method: m, lora: lora, batch: b, context: t)
            resetPeakResident()
            harness.step(); harness.step(); harness.step()
            checkedPeak = Double(peakResidentBytes())
        }
        SystemMemory.releaseFreed()
        let gflops = noTime ? nil : Self.measureGEMM(rows: b * t, width: modelConfig.width)
        let bandwidth = noTime ? nil : MachinePeak.triadGBs(threads: Parallelism.threadCount, seconds: 0.3)
        var plan = TrainingPlan(config: modelConfig, method: m, lora: lora, batch: b, context: t, gflops: gflops, bandwidth: bandwidth)
        plan.checkedPeakBytes = checkedPeak
        if !noTime {
            // --check, time: the planned model's own steps alternate with those of the models the
            // extrapolation times.
            let timing = try StepTimer.timed(config: modelConfig, method: m, lora: lora, batch: b, context: t, alsoFullModel: check)
            plan.measuredSecondsPerStep = timing.extrapolated
            plan.checkedSecondsPerStep = timing.fullModel
        }
        if json { try printJSON(plan); return }
        func mb(_ bytes: Double) -> String { String(format: "%9.1f MB", bytes / 1_048_576) }
        print("\(plan.modelType) · \(m.rawValue) · batch \(b) × context \(t) · AdamW")
        print(String(format: "parameters          %d (%d trainable, %.2f%%)", plan.parameters, plan.trainableParameters,
                     100 * Double(plan.trainableParameters) / Double(max(1, plan.parameters))))
        print(String(format: "FLOPs per token     %.3g   per step %.3g", plan.flopsPerToken, plan.flopsPerStep))
        print("memory")
        print("  weights           " + mb(plan.weights) + (m == .qlora ? "   (linear layers in NF4)" : ""))
        print("  gradients         " + mb(plan.gradients))
        print("  optimizer state   " + mb(plan.optimizerState) + "   (AdamW m and v)")
        print("  activations       " + mb(plan.activations) + "   of which attention T² term " + mb(plan.attentionProbabilities).trimmingCharacters(in: .whitespaces))
        print("  backward buffers  " + mb(plan.backwardWorkspace))
        print("  runtime           " + mb(plan.runtime))
        print("  total (peak)      " + mb(plan.total) + (plan.peakAtBackwardStart
            ? "   at the start of the backward pass (activations held; gradients not yet)"
            : "   at the end of the backward pass (gradients held; activations freed)"))
        if let s = plan.secondsPerStep, let g = plan.gflops {
            print(String(format: "time per step       %.3f s (%.0f tokens/s): FLOPs at the measured %.0f GFLOP/s matrix-multiply speed,", s, Double(b * t) / s, g))
            print(String(format: "                    plus %.0f MB of memory-bound traffic at the measured %.1f GB/s (a lower bound)", plan.memoryTraffic / 1_048_576, plan.bandwidth ?? 0))
        }
        if let s = plan.measuredSecondsPerStep {
            print(String(format: "time per step       %.3f s (%.0f tokens/s) from timed steps of this model cut to fewer layers", s, Double(b * t) / s))
        }
        if let peak = plan.checkedPeakBytes {
            print(String(format: "check: memory       measured peak %.1f MB; plan %.1f MB (%+.0f%%)", peak / 1_048_576, plan.total / 1_048_576,
                         100 * (plan.total - peak) / peak))
        }
        if let measured = plan.checkedSecondsPerStep, let s = plan.measuredSecondsPerStep {
            print(String(format: "check: time         measured %.3f s per step (best of 6, alternating); plan %.3f s (%+.0f%%)", measured, s, 100 * (s - measured) / measured))
        }
    }

    /// GFLOP/s of this machine's SGEMM on a product shaped like the model's (rows × width × 4·width),
    /// best of the runs in one second (this machine's speed drifts; longer is steadier).
    static func measureGEMM(rows: Int, width: Int) -> Double {
        let m = max(64, rows), k = width, n = 4 * width
        let a = [Float](repeating: 0.01, count: m * k), b = [Float](repeating: 0.02, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        let seconds = Stopwatch.bestTime(seconds: 1.0) {
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                Kernels.backend.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: pa.baseAddress!, lda: k,
                                      b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
            } } }
        }
        return 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }
}
