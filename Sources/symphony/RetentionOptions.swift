import ArgumentParser
import SymphonyRules
import SymphonyStore

/// `--retain`, shared by `run` and `serve`: prune the history as it runs.
struct RetentionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep this much history (30d, 12h): prune what was committed longer ago, at start and then every tenth of it (at most every 10 minutes).",
            valueName: "DURATION"))
    var retain: String?

    /// The retention asked for, or nil; a usage error when it is not a positive duration.
    func duration() throws -> Duration? {
        guard let retain else { return nil }
        guard let duration = DurationParser.parse(retain), duration > .zero else {
            throw ValidationError("--retain takes a positive duration (30d, 12h, 90m), not '\(retain)'.")
        }
        return duration
    }

    /// Checks `--retain` against `--no-history`.
    func validate(noHistory: Bool) throws {
        if noHistory, let retain { throw ValidationError("--retain '\(retain)' needs a history: it cannot be used with --no-history.") }
        _ = try duration()
    }

    /// Starts pruning `store` when `--retain` was given: one pass now, then one every tenth of the
    /// retention, between 1 s and 10 minutes.
    func start(store: HistoryStore?, principal: String) throws -> HistoryRetention? {
        guard let store, let keep = try duration() else { return nil }
        let interval = min(max(keep / 10, .seconds(1)), .seconds(600))
        return HistoryRetention(store: store, keep: keep, interval: interval, principal: principal)
    }
}
