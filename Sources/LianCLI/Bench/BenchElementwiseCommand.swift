import ArgumentParser

struct BenchElementwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "elementwise", abstract: "Elementwise kernels against memory bandwidth.")
    func run() throws {}
}
