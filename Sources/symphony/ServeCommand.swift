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
import SymphonyRecords
import SymphonyRules
import SymphonyServer
import SymphonyStore

/// `symphony serve`: run a rule set as a long-running service fed over HTTP.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run rules as a service: events over HTTP, intents as a service, Prometheus metrics.",
        discussion: """
            Endpoints (docs/reference/http-api.md, docs/reference/openapi.yaml): POST /v1/events (one JSON event or JSON Lines; answers \
            {"accepted", "rejected", "denied", "errors": [{"line", "reason"}]} once the accepted events are queued \
            and, with history, durably recorded), POST /v1/intents ({"text": ...} → ranked intents), POST /v1/reload \
            (re-read the rule files: 200 when they run now, 422 with their errors when refused), GET /metrics \
            (Prometheus text), GET /healthz and GET /readyz (no token needed), and with --webhooks FILE \
            POST /v1/webhooks/{source}: a raw JSON body becomes one event, its type from a header or field, \
            signed sources checked with HMAC-SHA256 (X-Hub-Signature-256: sha256=HEX).

            Authentication: with --tokens FILE (lines 'PRINCIPAL SHA256-HEX-OF-TOKEN'), every request but the probes \
            needs 'Authorization: Bearer TOKEN' (401 without or with a wrong one) and acts as that token's principal. \
            Without --tokens every request acts as --as: bind to loopback only (the default). Each endpoint checks the \
            policy: events:publish:<type> per event, intents:analyze, rules:load, metrics:read; a denial answers 403 and is audited. \
            An event's 'source' must be left out (it becomes the principal) or be the principal.

            Limits: bodies over --max-body bytes get 413; beyond --max-in-flight POST requests at once, 503 with \
            Retry-After (also while stopping). Other paths and methods get 404. There is no TLS: run behind a TLS \
            proxy to expose it.

            SIGINT or SIGTERM: stop accepting, finish the requests in flight, drain the queue, close the history, \
            print the summary and exit 130 (SIGINT) or 143 (SIGTERM); 74 if history could not be written. \
            The bound address is printed on standard error ('symphony: listening on HOST:PORT'); --listen HOST:0 \
            picks a free port. History, key and access options are those of 'symphony run'.

            With --store postgres://… (or $SYMPHONY_STORE) the service is a node of a cluster, as 'symphony run --store' \
            (docs/how-to/operations.md): a submission is answered once its events are committed to the shared queue, \
            which any node's workers handle; this node's workers take part too. The node needs the cluster's key \
            (--key-file); there is no SQLite history, so --db, --no-history and --retain do not apply.
            """)

    @Argument(help: ArgumentHelp("Rule files or directories (one rule set); the same as --rules.", valueName: "PATH"))
    var rulePaths: [String] = []

    @Option(name: .customLong("rules"), parsing: .upToNextOption, help: ArgumentHelp("Rule files or directories (one rule set).", valueName: "PATH"))
    var rulesOption: [String] = []

    /// The rule files, named either way (`symphony serve PATH` or `--rules PATH`).
    var rules: [String] { rulesOption + rulePaths }

    @Option(name: .long, help: ArgumentHelp("The address to listen on (port 0 picks a free one).", valueName: "HOST:PORT"))
    var listen: String = "127.0.0.1:8080"

    @Option(name: .long, help: ArgumentHelp("Bearer tokens: lines 'PRINCIPAL SHA256-HEX-OF-TOKEN'. Without it every request acts as --as.", valueName: "FILE"))
    var tokens: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Webhook senders for POST /v1/webhooks/{source}: type mapping and HMAC secret per source (YAML; docs/reference/file-formats.md).", valueName: "FILE"))
    var webhooks: String?

    @Option(name: .long, help: ArgumentHelp("The largest request body in bytes.", valueName: "BYTES"))
    var maxBody: Int = 1 << 20

    @Option(name: .long, help: ArgumentHelp("POST requests handled at once (metrics and probes take none); more get 503 with Retry-After.", valueName: "N"))
    var maxInFlight: Int = 64

    @Option(name: .long, help: ArgumentHelp("Also read this JSON Lines file as it grows, like tail -F (rotation and truncation aware, resuming where the last run stopped; repeatable).", valueName: "FILE"))
    var follow: [String] = []

    @Option(name: .long, help: ArgumentHelp("Read the --follow files' lines as raw text, each an event of this type (the rule set's 'lines:' parser for the type, if any, reads fields and time).", valueName: "TYPE"))
    var lines: String?

    @OptionGroup var plainJSONOptions: PlainJSONOptions

    @Option(name: .long, help: "Worker threads, 1 to 256 (default: the number of cores).")
    var workers: Int?

    @Flag(name: .long, help: "Run no exec, http or file actions: each is rendered, checked and recorded as skipped.")
    var noActions = false

    @Option(name: .long, help: ArgumentHelp("The history database (default $SYMPHONY_DB, else ./.symphony/history.db).", valueName: "PATH"))
    var db: String?

    @Flag(name: .long, help: "Keep no history: nothing is written, and delayed events do not survive the process.")
    var noHistory = false

    @OptionGroup var retentionOptions: RetentionOptions

    @OptionGroup var accessOptions: AccessOptions

    @Option(name: .long, help: ArgumentHelp("The AES-256 key file (default $SYMPHONY_KEY_FILE, else ./.symphony/key, created on first use).", valueName: "PATH"))
    var keyFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Serve as a node of a cluster that shares its queue, delayed events, state and records in this PostgreSQL database (default $SYMPHONY_STORE), as 'symphony run --store'.",
            valueName: "URL"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("With --store, this node's name (default: the host name and process id).", valueName: "NAME"))
    var node: String?

    /// The host and port of `--listen`.
    var address: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":") else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        return (host, port)
    }

    func validate() throws {
        try StateLocation.validatePaths(db: db, keyFile: keyFile)
        if noHistory, let db { throw ValidationError("--db '\(db)' and --no-history contradict each other: --no-history keeps no database.") }
        try retentionOptions.validate(noHistory: noHistory)
        if rules.isEmpty { throw ValidationError("Missing rule files: name a rule file or a directory of rule files (PATH or --rules PATH).") }
        if address == nil { throw ValidationError("--listen must be HOST:PORT (port 0 to 65535), such as 127.0.0.1:8080, not '\(listen)'.") }
        if let workers, !(1...RunCommand.maximumWorkers).contains(workers) {
            throw ValidationError("--workers must be from 1 to \(RunCommand.maximumWorkers), not \(workers).")
        }
        try plainJSONOptions.check(lines: lines)
        if let lines {
            do { try EventType.validate(lines) } catch let error as EventsError { throw ValidationError("--lines: \(error.message)") }
        }
        if follow.isEmpty && (lines != nil || plainJSONOptions.mode != nil) {
            throw ValidationError("\(lines != nil ? "--lines" : plainJSONOptions.type != nil ? "--json" : "--type-from") says how to read --follow files: name one with --follow FILE.")
        }
        if maxBody < 1 { throw ValidationError("--max-body must be at least 1, not \(maxBody).") }
        if !(1...100_000).contains(maxInFlight) { throw ValidationError("--max-in-flight must be from 1 to 100000, not \(maxInFlight).") }
        try validateStoreOptions()
    }

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let access = try accessOptions.accessGuard()
        let principal = accessOptions.principal
        let (host, port) = address!
        var bearerTokens: BearerTokens?
        if let tokens {
            do {
                bearerTokens = try BearerTokens.load(path: tokens)
            } catch {
                printError("symphony: \(error)")
                throw ExitCode(1)
            }
        } else if !["127.0.0.1", "::1", "localhost"].contains(host) {
            printError("symphony: warning: listening on \(host) without --tokens: anyone who reaches it acts as '\(principal)'")
        }
        var webhookSources: WebhookSources?
        if let webhooks {
            let (loaded, diagnostics) = WebhookSources.load(path: webhooks)
            report(diagnostics.sorted.map { $0 as CustomStringConvertible })
            guard let loaded else { throw ExitCode(1) }
            webhookSources = loaded
        }
        try accessOptions.require(.loadRules, with: access, recordIn: noHistory || storeURL != nil ? nil : StateLocation.database(db), keyFile: keyFile)
        let (documents, readProblems) = RuleDocuments.read(rules, keyFile: keyFile)
        let (loaded, diagnostics) = RuleSetLoader.load(documents: documents)
        // Advisories (cost, not meaning) are for `validate`, not repeated at every start.
        report((readProblems.all + diagnostics.sorted).filter { !$0.isAdvisory }.map { $0 as CustomStringConvertible })
        guard let ruleSet = loaded, !readProblems.hasErrors else { throw ExitCode(1) }
        var serverConfiguration = ServerConfiguration(defaultPrincipal: principal, access: access)
        serverConfiguration.host = host
        serverConfiguration.port = port
        serverConfiguration.tokens = bearerTokens
        serverConfiguration.maximumBodySize = maxBody
        serverConfiguration.maximumInFlight = maxInFlight
        serverConfiguration.webhooks = webhookSources
        if let url = storeURL {
            try serveOnCluster(url: url, ruleSet: ruleSet, access: access, principal: principal, server: serverConfiguration)
        }

        var configuration = RunConfiguration(ruleSet: ruleSet, access: access, principal: principal)
        if let workers { configuration.workerCount = workers }
        configuration.queueCapacity = RunCommand.queueCapacity
        configuration.runsSideEffects = !noActions
        // One Prometheus registry for the server, the run and the history writer.
        let metrics = ServerMetrics()
        configuration.metrics = RunMetrics(factory: metrics.factory)
        let store =
            noHistory
            ? nil
            : try RunHistory.open(
                db: db, keyFile: keyFile, retiredKeyFiles: [], rules: rules, ruleSet: ruleSet, principal: principal, metrics: metrics.factory)
        if let store {
            configuration.history = store.store
            configuration.encryption = .keyRing(store.keyRing)
        }
        // Pruning runs beside the event path, on its own thread, through the history writer.
        let retention = try retentionOptions.start(store: store?.store, principal: principal)
        let stop = try StopRequest.forCommand()
        let sink = TerminalOutput(stdout: OutputLines(), lines: .emittedEvents)
        let pipeline = try RunPipeline(configuration: configuration, output: sink, stop: stop)
        // SIGHUP and `POST /v1/reload` re-read the rule files; a rule set with errors is refused.
        let reloader = RuleSetReloader(rules: rules, keyFile: keyFile, target: pipeline, history: store?.store, principal: principal)
        serverConfiguration.reload = { requester in reloader.reload(trigger: "POST /v1/reload", as: requester) }
        let server = SymphonyHTTPServer(serving: pipeline, configuration: serverConfiguration, history: configuration.history, metrics: metrics)

        // Followed files feed the same pipeline, each on a thread of its own, until the stop.
        // Their lines are read as --lines, --json or --type-from say, with the 'lines:' parser of the rule set loaded at the start.
        var feeders: [WorkerThread] = []
        let lineParser = lines.flatMap { ruleSet.lineParsers[$0] }
        for path in follow {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            let source = FollowedFileSource(
                path: absolute, rawLinesType: lines, lineParser: lineParser, plainJSON: plainJSONOptions.mode,
                resume: try store?.store.filePosition(for: absolute), report: { sink.problem($0) })
            feeders.append(WorkerThread(name: "sym-follow") { do { try pipeline.feed(source) } catch { sink.problem("symphony: \(error)") } })
        }

        let (failure, signal) = Self.serveUntilStopped(server, reloader: reloader, host: host, sink: sink)
        stop.request(because: "the service is stopping")
        for feeder in feeders { feeder.join() }
        retention?.stop()  // before the history closes
        let summary = pipeline.finish()
        if let failure {
            printError("symphony: the server failed: \(failure)")
        }
        if let failure = summary.historyFailure {
            printError("symphony: history: \(failure); \(summary.historyLostRows) rows were not written")
        }
        printError(RunReport.line(summary, historyKept: store != nil))
        if failure != nil { throw ExitCode(1) }
        if summary.historyFailure != nil { throw ExitCode(74) }
        throw ExitCode(128 + signal)
    }

    /// Serves until SIGINT or SIGTERM stops the server gracefully (SIGHUP reloads the rules
    /// meanwhile); returns why the server failed, if it did, and the stopping signal's number.
    static func serveUntilStopped(_ server: SymphonyHTTPServer, reloader: RuleSetReloader, host: String, sink: TerminalOutput) -> (failure: String?, signal: Int32) {
        let received = Locked<Int32>(0)
        SignalWatcher.watch([SIGINT, SIGTERM]) { number in
            received.withLock { if $0 == 0 { $0 = number } }
            Task { await server.shutdown() }
        }
        SignalWatcher.watch([SIGHUP]) { _ in
            let outcome = reloader.reload(trigger: "SIGHUP")
            if outcome.reloaded {
                sink.problem("symphony: SIGHUP: reloaded the rule set (\(outcome.rules) rules)")
            } else {
                sink.problem("symphony: SIGHUP: the rule set has errors; the running rules stay in force")
                for error in outcome.errors { sink.problem(error) }
            }
        }
        let done = DispatchSemaphore(value: 0)
        let failure = Locked<String?>(nil)
        Task {
            do {
                try await server.run { bound in printError("symphony: listening on \(host):\(bound)") }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        done.wait()
        return (failure.withLock { $0 }, received.withLock { $0 })
    }
}
