import ArgumentParser

/// `--db`, `--key-file` and `--retired-key-file` of `symphony history`, shared with `history prune`
/// (a subcommand gets the options its parent also declares only through a shared group).
struct HistoryLocationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The history database.", valueName: "PATH")) var db: String?
    @Option(name: .long, help: ArgumentHelp("The key file: shows payloads; prune signs the chain's new start with it.", valueName: "PATH"))
    var keyFile: String?
    @Option(name: .long, help: ArgumentHelp("A retired key that opens older payloads, or checks what it signed (repeatable).", valueName: "PATH"))
    var retiredKeyFile: [String] = []
}
