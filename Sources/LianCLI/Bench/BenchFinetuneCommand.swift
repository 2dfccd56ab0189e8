import ArgumentParser
import Foundation
import LianKernels
import LianNN
import LianTensor
import LianTraining

/// `lian bench finetune`: peak memory and tokens/s of full fine-tuning, LoRA and QLoRA on the same
/// base (GPT-2-124M shape, random weights, context 256). Each method runs in its own process, so
/// each peak is its own; it is the peak resident memory while training (see `measure`).
struct BenchFinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune", abstract: "Peak memory and speed of full, LoRA and QLoRA fine-tuning on a GPT-2-124M-shaped model.")

    @Option(help: "Sequences per step (1, as QLoRA runs usually are, with accumulation for more).") var batch: Int = 1
    @Option(help: "Context length.") var context: Int = 256
    @Option(help: "Timed steps per method (after two warm-up steps).") var steps: Int = 5
    @Option(help: "LoRA rank (on the attention layers: c_attn, attn.c_proj).") var rank: Int = 8
    @Option(help: "Run one method in this process (used by the benchmark itself).") var only: String?
    @Flag(help: "Print JSON.") var json = false

    struct Measurement: Codable {
        var method: String
        var tokensPerSecond: Double
        var peakMemoryMB: Double
        var trainableParameters: Int
        var weightMB: Double
        /// Resident memory once the model is ready, before the first step.
        var readyMB: Double
    }

    static let base = GPT2Config(vocabSize: 50257, contextLength: 1024, width: 768, layers: 12, heads: 12)

    func run() throws {
        if let only {
            let m = try measure(only)
            FileHandle.standardOutput.write(try JSONEncoder().encode(m))
            return
        }
        var results: [Measurement] = []
        for method in ["full", "lora", "qlora"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = ["bench", "finetune", "--only", method, "--batch", String(batch), "--context", String(context),
                                 "--steps", String(steps), "--rank", String(rank)]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0, let m = try? JSONDecoder().decode(Measurement.self, from: data) else {
                throw CLIError("the \(method) measurement failed (exit \(process.terminationStatus))")
            }
            results.append(m)
        }
        if json { print(String(decoding: try JSONEncoder().encode(results), as: UTF8.self)); return }
        print("lian bench finetune — \(BenchReport<BenchTrainStepCommand.Measurement>.machineLine), \(Parallelism.threadCount) threads")
        print("GPT-2-124M shape (random weights), batch \(batch), context \(context); LoRA r=\(rank) on attention; AdamW\n")
        let full = results[0]
        let rows = results.map { r in
            [r.method, fixed(r.tokensPerSecond, 0), fixed(r.peakMemoryMB, 0), fixed(100 * r.peakMemoryMB / full.peakMemoryMB, 0) + "%",
             fixed(r.weightMB, 0), String(r.trainableParameters)]
        }
        for line in tableLines(header: ["method", "tokens/s", "peak MB", "of full", "weights MB", "trainable"], rows: rows) { print(line) }
        print("\ntargets: LoRA peak ≤ 40% of full (\(fixed(100 * results[1].peakMemoryMB / full.peakMemoryMB, 0))%), QLoRA ≤ 25% (\(fixed(100 * results[2].peakMemoryMB / full.peakMemoryMB, 0))%), LoRA ≥ 1.3× full tokens/s (\(fixed(results[1].tokensPerSecond / full.tokensPerSecond, 2))×)")
    }

    func measure(_ method: String) throws -> Measurement {
        guard let m = TrainingPlan.Method(rawValue: method) else { throw ValidationError("--only must be full, lora or qlora") }
        let harness = try SyntheticTrainingStep(config: .gpt2(Self.base), method: m,
                                                lora: LoRAConfig(rank: rank, alpha: Float(2 * rank), targetModules: ["attention"]),
                                                batch: batch, context: context)
        let model = harness.model
        let weightBytes = model.namedParameters().reduce(0) { $0 + 4 * $1.parameter.value.count }
            + model.linearLayers.reduce(0) { $0 + ($1.layer.quantized?.storageBytes ?? 0) }
        // The peak is measured over training: the high-water mark is reset once the model is ready
        // (Linux: /proc/self/clear_refs, "5"), so building the Float32 model that QLoRA then
        // quantizes does not count — loading is a transient, training is what runs for hours.
        let ready = Double(currentResidentBytes()) / 1_048_576
        resetPeakResident()
        harness.step(); harness.step()
        let start = Stopwatch.now()
        for _ in 0..<steps { harness.step() }
        let seconds = (Stopwatch.now() - start) / Double(steps)
        return Measurement(method: method, tokensPerSecond: Double(batch * context) / seconds,
                           peakMemoryMB: Double(peakResidentBytes()) / 1_048_576,
                           trainableParameters: model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count },
                           weightMB: Double(weightBytes) / 1_048_576, readyMB: ready)
    }
}
