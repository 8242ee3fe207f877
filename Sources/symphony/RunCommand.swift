import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Logging
import SymphonyAccess
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEngine
import SymphonyEvents
import SymphonyPipeline
import SymphonyRules
import SymphonyStore
import Synchronization
import SymphonyRecords

/// `symphony run`: run a rule set over events from files or standard input.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run rules over events from JSON Lines files or standard input.",
        discussion: """
            Each input line is one JSON object: {"type": "ticket.created", "payload": {...}, "priority": 0-9, \
            "id": "...", "source": "..."}. Only "type" is required. With --lines TYPE, every line is raw text \
            (sshd or syslog lines), never parsed as JSON: each becomes {"type": TYPE, "payload": {"message": LINE}}, \
            invalid UTF-8 replaced by U+FFFD (counted in the summary); when the rule set has a 'lines:' parser for TYPE, \
            its captures become payload fields and the line's own time the event time. JSON application logs \
            without a "type" are read with --json TYPE (each line's object is the payload of an event of TYPE) or \
            --type-from FIELD (the type is the value of the object's top-level string field FIELD).

            A line that is not a valid event is reported on standard error with its line number and reason, \
            counted and skipped; the run goes on. Input is streamed, so 'tail -F app.log | symphony run ...' works.

            Output: --format summary (default; also spelled text, and --output) prints emitted events on standard output and a summary on standard \
            error, with the messages of audit actions (the first 20) on standard error as they are written; ndjson \
            prints one JSON line per action outcome instead; quiet prints emitted events only.

            --follow keeps running until SIGINT or SIGTERM, so delayed events fire, and reads the --events files \
            as they grow, like 'tail -F': appended lines as they come, a rotated file to its end and then the new \
            one from its start, a truncated one again from its start. With history, how far each file was read is \
            stored with the events read from it, and the next --follow run of the same file goes on from there \
            (a different file at the path is read from its start). SIGHUP re-reads the rule files: a rule set \
            without errors replaces the running one (queued events, pending delays and the state of rules with \
            memory that kept their settings carry over); one with errors is refused, with its diagnostics. On \
            either signal Symphony reads no more input but handles every line it already read; rules still run on \
            the events already read or queued, but their publish actions fail ("the run is stopping"), so no new \
            work starts (delays are stored for a later run); then it prints the summary and exits with the usual code.

            History: every input event, action outcome and rejected line is recorded in a SQLite database \
            (default ./.symphony/history.db; --db or $SYMPHONY_DB), payloads sealed with AES-256-GCM under the key \
            file (default ./.symphony/key, created on first use; --key-file or $SYMPHONY_KEY_FILE). Delayed \
            events are stored before they count as done; on start, pending ones that are due fire at once. \
            --no-history keeps nothing.

            Access: with --policy, every input event is checked as its 'source' principal (or --as) for \
            events:publish:<type>, and every publish/delay action as the rule's run_as (or the rule set's owner, \
            or --as). Denials are reported, recorded in history (outcome denied) and the audit trail, and do not run.

            Exit codes: 0 ok (failed and denied actions are counted in the summary); 2 with --strict, some action \
            failed or was denied; 1 the rules (or the key, \
            database or policy) have errors; 64 usage error; 65 some input lines were rejected; 66 an input \
            file could not be read; 74 history could not be written; 77 --as may not load rules; 130 and 143 \
            SIGINT and SIGTERM ended the run (everything read was handled and recorded first; the summary ends \
            with 'interrupted by SIGTERM'). A --follow run ends only by a signal: run it as a service with \
            143 counted as success (systemd: SuccessExitStatus=143).
            """)

    /// What goes to standard output (`text` is another name for `summary`).
    enum Output: String, ExpressibleByArgument, CaseIterable {
        case summary, text, ndjson, quiet
    }

    @Argument(help: ArgumentHelp("Rule files or directories (one rule set); the same as --rules.", valueName: "PATH"))
    var rulePaths: [String] = []

    @Option(name: .customLong("rules"), parsing: .upToNextOption, help: ArgumentHelp("Rule files or directories (one rule set).", valueName: "PATH"))
    var rulesOption: [String] = []

    /// The rule files, named either way (`symphony run PATH` or `--rules PATH`).
    var rules: [String] { rulesOption + rulePaths }

    @Option(name: .long, help: ArgumentHelp("A JSON Lines file of events, or - for standard input (repeatable; default -).", valueName: "FILE"))
    var events: [String] = []

    @Option(name: [.customLong("format"), .customLong("output")], help: "summary (or text), ndjson or quiet; --output is another name for it.")
    var output: Output = .summary

    @Option(name: .long, help: "Worker threads, 1 to 256 (default: the number of cores).")
    var workers: Int?

    @Flag(name: .long, help: "Keep running until SIGINT or SIGTERM: read the --events files as they grow (tail -F, resuming where the last run stopped) and fire delays when due.")
    var follow = false
    @Flag(
        name: .long,
        help: "Replay the input on its own time: event times are the clock, so delays come due as the input's time passes them and each event is handled after the ones before it (for logs; slower).")
    var replay = false

    @Option(name: .long, help: ArgumentHelp("Read every line as raw text, wrapped as an event of this type (no JSON parsing; the rule set's 'lines:' parser for the type, if any, reads fields and time).", valueName: "TYPE"))
    var lines: String?

    @OptionGroup var plainJSONOptions: PlainJSONOptions

    @Option(name: .long, help: "The longest chain of derived events (default 16).")
    var hopLimit: Int = RuleEngine.defaultHopLimit

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The most events one input event may derive, by publish and delay at any depth (default 10000); past it such actions fail.",
            valueName: "N"))
    var maxDerived: Int = RuleEngine.defaultDerivedEventBudget

    @Flag(
        name: .long,
        help: "After the run, print on stderr how long each stage took (decode, queue, match, intents, actions, history), summed over threads.")
    var stageTimes = false

    @Flag(name: .long, help: "Run no exec, http or file actions: each is rendered, checked and recorded as skipped; everything else runs.")
    var noActions = false

    @Flag(name: .long, help: "Exit 2 when any action failed or was denied, or a side effect gave up (by default those are counted in the summary and the run exits 0).")
    var strict = false

    @Flag(name: .long, help: "Queue events in plaintext (debugging only; logs a warning).")
    var noEncryption = false

    @Option(name: .long, help: ArgumentHelp("The history database (default $SYMPHONY_DB, else ./.symphony/history.db).", valueName: "PATH"))
    var db: String?

    @Flag(name: .long, help: "Keep no history: nothing is written, and delayed events do not survive the process.")
    var noHistory = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "After the run, write the history chain's signed head to this file (0600), for 'symphony audit verify --checkpoint'.", valueName: "PATH"))
    var checkpoint: String?

    @OptionGroup var retentionOptions: RetentionOptions

    @OptionGroup var accessOptions: AccessOptions

    var principal: String { accessOptions.principal }

    @Option(name: .long, help: ArgumentHelp("The AES-256 key file (default $SYMPHONY_KEY_FILE, else ./.symphony/key, created on first use).", valueName: "PATH"))
    var keyFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Run as a node of a cluster that shares its queue, delayed events, the state of rules with memory and handled-event records in this PostgreSQL database (default $SYMPHONY_STORE), e.g. postgres://user@host/db. Every node needs the same key and rules; side effects run on whichever node holds them, at least once.",
            valueName: "URL"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("With --store, this node's name (default: the host name and process id).", valueName: "NAME"))
    var node: String?

    @Option(name: .long, help: ArgumentHelp("A retired key that still opens older history (repeatable); new data uses --key-file.", valueName: "PATH"))
    var retiredKeyFile: [String] = []

    /// The most worker threads `--workers` may ask for (each is an OS thread; thousands only
    /// contend for the queue and can exhaust the process's thread limit).
    static let maximumWorkers = 256

    /// The event queue's capacity in `symphony run`.
    static let queueCapacity = 8_192

    func validate() throws {
        try StateLocation.validatePaths(db: db, keyFile: keyFile, retiredKeyFiles: retiredKeyFile)
        if noHistory, let db { throw ValidationError("--db '\(db)' and --no-history contradict each other: --no-history keeps no database.") }
        if noHistory, let checkpoint { throw ValidationError("--checkpoint '\(checkpoint)' needs a history: it cannot be used with --no-history.") }
        if checkpoint?.isEmpty == true { throw ValidationError("--checkpoint needs a file path.") }
        try retentionOptions.validate(noHistory: noHistory)
        if rules.isEmpty { throw ValidationError("Missing rule files: name a rule file or a directory of rule files (PATH or --rules PATH).") }
        if replay && follow { throw ValidationError("--replay and --follow contradict each other: a replay's clock is its input, which has ended.") }
        if let workers, !(1...Self.maximumWorkers).contains(workers) {
            throw ValidationError("--workers must be from 1 to \(Self.maximumWorkers), not \(workers).")
        }
        if hopLimit < 1 { throw ValidationError("--hop-limit must be at least 1, not \(hopLimit).") }
        if maxDerived < 1 { throw ValidationError("--max-derived must be at least 1, not \(maxDerived).") }
        try plainJSONOptions.check(lines: lines)
        if let lines {
            do { try EventType.validate(lines) } catch let error as EventsError { throw ValidationError("--lines: \(error.message)") }
        }
        try validateStoreOptions()
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let access = try accessOptions.accessGuard()
        let principal = self.principal  // read once: not per event
        StageTimes.shared.setEnabled(stageTimes)
        try accessOptions.require(.loadRules, with: access, recordIn: noHistory || storeURL != nil ? nil : StateLocation.database(db), keyFile: keyFile)
        let ruleSet = try loadRuleSet()
        if let url = storeURL {
            try runOnCluster(url: url, ruleSet: ruleSet, access: access, principal: principal)
        }

        var configuration = RunConfiguration(ruleSet: ruleSet, access: access, principal: principal)
        if let workers { configuration.workerCount = workers }
        // Input arrives in batches of 64 and workers take 16 at a time, so a few thousand queued
        // events keep them busy; a deeper queue would only hold more memory while a slower stage
        // (the history writer) sets the pace.
        configuration.queueCapacity = Self.queueCapacity
        configuration.hopLimit = hopLimit
        configuration.derivedEventBudget = maxDerived
        configuration.replay = replay
        configuration.runsSideEffects = !noActions
        // Nothing to read (every --events file is missing): say so before any state is created.
        let files = events.filter { $0 != "-" }
        if !follow, !files.isEmpty, files.count == events.count, files.allSatisfy({ !FileManager.default.fileExists(atPath: $0) }) {
            for file in files { printError("symphony: cannot read '\(file)': No such file or directory") }
            throw ExitCode.noInput
        }
        let createsDatabase = !noHistory && !FileManager.default.fileExists(atPath: StateLocation.database(db))
        let history = noHistory ? nil : try RunHistory.open(db: db, keyFile: keyFile, retiredKeyFiles: retiredKeyFile, rules: rules, ruleSet: ruleSet, principal: principal)
        if createsDatabase, let history { printError("symphony: created the history database '\(history.store.path)'") }
        if let history {
            configuration.history = history.store
            configuration.encryption = .keyRing(history.keyRing)
        }
        // Pruning runs beside the event path, on its own thread, through the history writer.
        let retention = try retentionOptions.start(store: history?.store, principal: principal)
        if noEncryption { configuration.encryption = .disabled }
        let stop = try StopRequest.forCommand()
        // Before the pipeline starts: starting fires overdue delays, and a signal then must stop, not kill, the run.
        let signals = RunSignals(stop: stop)
        signals.install()
        let stdout = OutputLines()
        let sink = TerminalOutput(stdout: stdout, lines: output == .ndjson ? .outcomes : .emittedEvents, auditMessages: output != .quiet)
        let pipeline = try RunPipeline(configuration: configuration, output: sink, stop: stop)
        sink.showQueueDepth { [system = pipeline.system] in system.counters.queueDepth }
        // SIGHUP re-reads the rule set; one with errors is refused and the running rules stay.
        let reloader = RuleSetReloader(rules: rules, keyFile: keyFile, target: pipeline, history: history?.store, principal: principal)
        signals.onHangUp {
            let outcome = reloader.reload(trigger: "SIGHUP")
            guard outcome.reloaded else {
                sink.problem("symphony: SIGHUP: the rule set has errors; the running rules stay in force")
                for error in outcome.errors { sink.problem(error) }
                return
            }
            sink.problem("symphony: SIGHUP: reloaded the rule set (\(outcome.rules) rules); rules with memory that kept their settings keep their state")
        }
        let lineParser = lines.flatMap { ruleSet.lineParsers[$0] }
        if (events.isEmpty || events.contains("-")) && isatty(STDIN_FILENO) == 1 && output != .quiet {
            printError("symphony: reading events from standard input (one JSON object per line; Ctrl-D ends the input)")
        }
        if follow {
            // Each input on its own thread: followed files never end; a signal (or a history failure) ends them all.
            let store = history?.store
            let sources: [any EventSource] = try (events.isEmpty ? ["-"] : events).map { path in
                guard path != "-" else {
                    var source = LineEventSource(paths: ["-"], rawLinesType: lines, lineParser: lineParser, report: { sink.problem($0) })
                    source.plainJSON = plainJSONOptions.mode
                    return source
                }
                let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
                return FollowedFileSource(
                    path: absolute, rawLinesType: lines, lineParser: lineParser, plainJSON: plainJSONOptions.mode,
                    resume: try store?.filePosition(for: absolute), report: { sink.problem($0) })
            }
            let feeders = sources.map { source in
                WorkerThread(name: "sym-follow") {
                    do { try pipeline.feed(source) } catch { sink.problem("symphony: \(error)") }
                }
            }
            stop.wait()
            for feeder in feeders { feeder.join() }
        } else {
            // Returns at the end of the input, or after a signal once every line already read was handled.
            var source = LineEventSource(paths: events, rawLinesType: lines, lineParser: lineParser, report: { sink.problem($0) })
            source.plainJSON = plainJSONOptions.mode
            try pipeline.feed(source)
        }
        retention?.stop()  // before the history closes
        let summary = pipeline.finish()
        withExtendedLifetime(signals) {}  // its signal sources live until the run is over
        if let failure = summary.historyFailure {
            printError(
                "symphony: history: \(failure); \(grouped(summary.historyLostRows)) rows were not written (the batches that could "
                    + "not be committed), and no more input was read once that was known")
        }
        var checkpointFailed = false
        if let checkpoint, let store = history?.store, summary.historyFailure == nil {
            do {
                guard let head = try store.checkpoint() else { throw StoreError(code: -1, message: "the history has no chain") }
                try CheckpointFile.replace(checkpoint, with: head, history: store.path)
            } catch {
                checkpointFailed = true
                printError("symphony: could not write the checkpoint '\(checkpoint)': \(error)")
            }
        }
        sink.finish()
        if output != .quiet { printError(RunReport.line(summary, historyKept: history != nil)) }
        if stageTimes { printError(StageReport(times: StageTimes.shared.snapshot(), events: summary.read).text) }
        let status = RunReport.exitStatus(summary, checkpointFailed: checkpointFailed)
        if strict, status == 0, summary.errors + summary.denied > 0 {
            printError("symphony: --strict: \(grouped(summary.errors)) errors and \(grouped(summary.denied)) denials")
            throw ExitCode(2)
        }
        throw ExitCode(status)
    }

    /// Reads and compiles the rule files; reports every problem, and exits 1 when there were errors.
    private func loadRuleSet() throws -> RuleSet {
        let (documents, readProblems) = RuleDocuments.read(rules, keyFile: keyFile)
        let (loaded, diagnostics) = RuleSetLoader.load(documents: documents)
        // Advisories (cost, not meaning) are for `validate`, not repeated at every start.
        report((readProblems.all + diagnostics.sorted).filter { !$0.isAdvisory }.map { $0 as CustomStringConvertible })
        guard let ruleSet = loaded, !readProblems.hasErrors else { throw ExitCode(1) }
        return ruleSet
    }
}

