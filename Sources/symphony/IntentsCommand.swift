import ArgumentParser

/// `symphony intents`: classify text (the default subcommand) or evaluate the intents on labelled examples.
struct IntentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intents",
        abstract: "Classify text with a rule set's intents, or measure them on labelled examples.",
        discussion: """
            'symphony intents --rules PATH TEXT…' classifies text (the 'classify' subcommand, the default); \
            'symphony intents evaluate --rules PATH EXAMPLES' reports accuracy, precision and recall on \
            labelled examples. The intent syntax and scoring formula are in docs/reference/intents.md.
            """,
        subcommands: [IntentsClassifyCommand.self, IntentsEvaluateCommand.self],
        defaultSubcommand: IntentsClassifyCommand.self)
}
