import ArgumentParser

/// `lian`: the root command. One subcommand per link of the chain; more arrive with their issues.
public struct LianCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lian",
        abstract: "Lian (炼): train your own language model from raw text, and see inside it.",
        subcommands: [QuickstartCommand.self, TokenizerCommand.self, DataCommand.self, TrainCommand.self, GenerateCommand.self,
                      FinetuneCommand.self, MergeCommand.self, ChatCommand.self, InspectCommand.self,
                      PlanCommand.self, DistillCommand.self, EmbedCommand.self, SearchCommand.self, BenchCommand.self]
    )
    public init() {}
}
