import ArgumentParser

/// The `symphony` command-line tool; each subcommand lives in its own file.
@main
struct SymphonyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "symphony",
        abstract: "Rule-driven workflow automation: events in, actions out.",
        discussion: """
            Symphony reads events (one JSON object per line), queues them by priority with \
            AES-256-GCM encryption, and hands each to the handlers subscribed to its type.
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, ServeCommand.self, ValidateCommand.self, TestCommand.self, IntentsCommand.self, HistoryCommand.self, RetryCommand.self, AuditCommand.self, KeygenCommand.self, SealCommand.self])
}
