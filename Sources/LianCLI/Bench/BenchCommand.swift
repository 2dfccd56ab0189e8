import ArgumentParser

/// `lian bench ...`: performance measurements, each against a peer measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Lian's kernels and training speed.",
        subcommands: [BenchGEMMCommand.self, BenchElementwiseCommand.self, BenchTrainStepCommand.self, BenchTokenizerCommand.self, BenchFinetuneCommand.self,
                      BenchTimeToQualityCommand.self]
    )
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON document (one object per measurement) instead of a table.")
    var json = false

    @Option(help: "Seconds to spend measuring each case (after a warm-up run).")
    var seconds: Double = 0.5
}
