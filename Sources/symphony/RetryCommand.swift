import ArgumentParser
import Foundation
import SymphonyAccess
import SymphonyCrypto
import SymphonyDelivery
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import SymphonyStore

/// `symphony retry`: list the side effects that gave up (dead letters), and run them again.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "List side effects that gave up (dead letters), or run them again.",
        discussion: """
            An exec, http or file action that failed in a way not worth retrying (an HTTP 4xx, a program \
            that cannot start), or that used up its rule's 'retry:' tries or time, is a dead letter: it \
            stays in the history with the request exactly as rendered. 'symphony retry --list' shows them; \
            'symphony retry' queues them all again (or those named with --action) with a fresh count of \
            tries, runs them, and waits until each is done or dead again. The idempotency key stays the \
            same, so receivers can tell a retry from a new action.

            Each side effect is checked again against --policy as the --as principal (actions:exec, \
            actions:http:<host>, actions:file:<path>); a refused one stays a dead letter. --rules gives \
            the pools: and targets: limits to run under (default: 4 exec, 8 http, 2 file at once).

            With --store URL (or $SYMPHONY_STORE), it works on a cluster's dead letters in PostgreSQL: this \
            process runs them as a node of its own (named retry-HOST-PID), recording each try like any node; \
            --key-file must be the cluster's key.

            Exit codes: 0 every retried side effect succeeded (or --list); 1 some failed again, the history \
            could not be read, or (with --store) a running node took one over meanwhile; 77 the policy refused.
            """)

    @Option(name: .long, help: ArgumentHelp("The history database (default $SYMPHONY_DB, else ./.symphony/history.db).", valueName: "PATH"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The key file (default $SYMPHONY_KEY_FILE, else ./.symphony/key).", valueName: "PATH"))
    var keyFile: String?

    @Option(name: .long, help: ArgumentHelp("A retired key that still opens older history (repeatable).", valueName: "PATH"))
    var retiredKeyFile: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("The rule set whose pools: and targets: limits apply.", valueName: "PATH"))
    var rules: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only the dead letter with this action key (rule/event-id/index; repeatable).", valueName: "KEY"))
    var action: [String] = []

    @Flag(name: .long, help: "List the dead letters; run nothing.")
    var list = false

    @OptionGroup var accessOptions: AccessOptions

    @OptionGroup var storeOption: ClusterStoreOption

    func validate() throws {
        try StateLocation.validatePaths(db: db, keyFile: keyFile, retiredKeyFiles: retiredKeyFile)
        try storeOption.validate(db: db)
        if storeOption.url(db: db) != nil, !retiredKeyFile.isEmpty {
            throw ValidationError("--retired-key-file cannot be used with \(storeOption.origin): a cluster's side effects are sealed with its one key.")
        }
    }

    func run() throws {
        if let url = storeOption.url(db: db) { return try runOnStore(url: url) }
        let access = try accessOptions.accessGuard()
        let path = StateLocation.database(db)
        try accessOptions.require(.readHistory, with: access, recordIn: path, keyFile: keyFile)
        guard FileManager.default.fileExists(atPath: path) else {
            printError("symphony: no history database at '\(path)'; 'symphony run' creates it (or pass --db).")
            throw ExitCode(1)
        }
        let store: HistoryStore
        do {
            guard let key = try StateLocation.loadKey(keyFile, createIfMissing: false) else {
                printError("symphony: no key file; pass --key-file (the key the run used).")
                throw ExitCode(1)
            }
            store = try HistoryStore(path: path, key: key, retiredKeys: try StateLocation.loadRetiredKeys(retiredKeyFile))
        } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        } catch let error as StoreError {
            printError("symphony: history: \(error.message)")
            throw ExitCode(1)
        }
        defer { try? store.close() }
        let output = OutputLines()
        defer { output.flush() }
        let dead = try store.deadActions()
        if list { return write(dead, to: output) }
        let settings = try sideEffectSettings()
        let (allowed, denials) = recheck(dead, wanted: try wantedKeys(among: dead), access: access)
        for denial in denials { store.audit(denial) }
        guard !allowed.isEmpty else {
            if dead.isEmpty { printError("symphony: no dead letters to retry") }
            if dead.isEmpty { return }
            throw ExitCode(77)
        }
        let requeued = try store.requeueDeadActions(keys: Set(allowed.map(\.key)), now: .now())
        guard !requeued.isEmpty else { return printError(Self.noneRequeued) }
        store.audit(Self.retryRecord(requeued, target: path, principal: accessOptions.principal))
        var configuration = ActionDispatcher.Configuration(ruleSet: RuleSet(rules: [], recognizer: try .init([]), sideEffects: settings))
        configuration.ruleConcurrency = [:]
        let dispatcher = ActionDispatcher(configuration: configuration, runner: StandardSideEffectRunner(), history: store) { record, _, state in
            output.write(Self.attemptLine(record))
            output.flush()
        }
        dispatcher.submit(requeued)
        dispatcher.drain()
        dispatcher.stop()
        let statistics = dispatcher.statistics
        printError(Self.summary(retried: requeued.count, statistics))
        if statistics.deadLettered > 0 { throw ExitCode(1) }
    }

    /// The dead letters of `dead` that `wanted` names (all when nil) and the policy allows now —
    /// it may have changed since they were queued — and an `access.denied` record for each it
    /// refuses (each refusal is also printed: it stays a dead letter).
    func recheck(
        _ dead: [(entry: OutboxEntry, reason: String)], wanted: Set<String>?, access: AccessGuard
    ) -> (allowed: [OutboxEntry], denials: [AuditRecord]) {
        var allowed: [OutboxEntry] = []
        var denials: [AuditRecord] = []
        for (entry, _) in dead where wanted?.contains(entry.key) ?? true {
            do {
                try access.check(Self.operation(for: entry.request), as: accessOptions.principal)
                allowed.append(entry)
            } catch {
                printError("symphony: \(entry.key): \(error.description); it stays a dead letter")
                denials.append(
                    AuditRecord(principal: accessOptions.principal, operation: .accessDenied, target: entry.key, outcome: "denied", details: error.description))
            }
        }
        return (allowed, denials)
    }

    /// What `retry` says when another process retried every dead letter it was about to (nothing is recorded then).
    static let noneRequeued = "symphony: nothing retried: another process retried these dead letters meanwhile"

    /// The `actions.retry` record of the side effects queued again (written once they are).
    static func retryRecord(_ requeued: [OutboxEntry], target: String, principal: String) -> AuditRecord {
        AuditRecord(
            principal: principal, operation: .actionsRetry, target: target, outcome: "ok",
            details: "\(requeued.count) dead side effects queued again: " + requeued.prefix(20).map(\.key).joined(separator: ", "))
    }

    /// One line per try, as it ends: `RULE  KIND  ok|failed  MESSAGE  [ERROR]`.
    static func attemptLine(_ record: ExecutionRecord) -> String {
        let outcome = record.outcome == .ok ? "ok" : "failed"
        return "\(record.rule)  \(record.kind.name)  \(outcome)  \(record.message ?? "")" + (record.error.map { "  \($0)" } ?? "")
    }

    /// `N retried: S succeeded, D dead letters again`.
    static func summary(retried: Int, _ statistics: DeliveryStatistics) -> String {
        "symphony: \(retried) retried: \(statistics.succeeded.values.reduce(0, +)) succeeded, \(statistics.deadLettered) dead letters again"
    }

    /// `--list`: the dead letters, one per line.
    func write(_ dead: [(entry: OutboxEntry, reason: String)], to output: OutputLines) {
        if dead.isEmpty { output.write("(no dead letters)") }
        for (entry, reason) in dead {
            output.write("\(entry.key)  \(entry.kind.name)  \(entry.request.summary)  tries \(entry.attempts)  \(reason)")
        }
    }

    /// The action keys --action names (nil: all), each of them a dead letter of `dead`.
    func wantedKeys(among dead: [(entry: OutboxEntry, reason: String)]) throws -> Set<String>? {
        guard !action.isEmpty else { return nil }
        let unknown = Set(action).subtracting(dead.map(\.entry.key))
        if !unknown.isEmpty {
            printError("symphony: no dead letter with the action key \(unknown.sorted().joined(separator: ", ")); 'symphony retry --list' shows them")
            throw ExitCode(1)
        }
        return Set(action)
    }

    /// The pools: and targets: limits of --rules (the defaults without it).
    func sideEffectSettings() throws -> SideEffectSettings {
        guard !rules.isEmpty else { return SideEffectSettings() }
        let (documents, readProblems) = RuleDocuments.read(rules, keyFile: keyFile)
        let (loaded, diagnostics) = RuleSetLoader.load(documents: documents)
        for problem in readProblems.all + diagnostics.sorted where problem.severity == .error { printError(problem.description) }
        guard let ruleSet = loaded, !readProblems.hasErrors else { throw ExitCode(1) }
        return ruleSet.sideEffects
    }

    static func operation(for request: ActionRequest) -> AccessOperation {
        switch request {
        case .exec(let spec): .runProgram(spec.command.first ?? "")
        case .http(let spec): .httpRequest(host: spec.host ?? "")
        case .file(let spec): .appendFile(path: spec.path)
        }
    }
}
