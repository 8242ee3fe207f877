import SymphonyJSON
import SymphonyDiagnostics
import SymphonyPipeline
import ArgumentParser
import Foundation
import SymphonyCrypto
import SymphonyEvents
import SymphonyRules
import SymphonyStore
import SymphonyRecords

/// `symphony history`: query what Symphony did.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Query execution history: filters, causal traces, statistics; table, JSON Lines or CSV. 'history prune' removes old history.",
        discussion: """
            Reads the history database that 'symphony run' writes (default ./.symphony/history.db; --db or \
            $SYMPHONY_DB). Rows are action executions, most recent first (a side effect has one per try). \
            --status queued lists side effects not finished, --status dead those that gave up (dead \
            letters: 'symphony retry' runs them again). --status pending lists scheduled \
            entries that have not fired. --trace ID shows the causal tree from the input event through rules, \
            actions and derived events. --stats gives per rule how many distinct events it fired on, and per action \
            kind and outcome the count and p50/p95 durations; with --rules PATH (else the rule files the last run \
            loaded, when they can still be read) it lists the rules that never fired. \
            --state RULE --rules PATH shows what a rule's count:, throttle: and after: gates hold now, per key; \
            --key KEY finds the executions (and pending delays) of a key.

            With --store URL (or $SYMPHONY_STORE), it reads the records of a cluster's nodes in PostgreSQL: the \
            executions (with --rule, --type, --status, --since, --until, --event, --key, --limit, --format), \
            with --status pending the delayed events waiting, with --status queued or dead its side effects not \
            finished or given up, --stats (the rules that never fired from --rules PATH, else from the rule files \
            the last node loaded), --trace ID (without \
            payloads: a cluster keeps none), and with --state RULE --rules PATH what the rule's gates hold in the \
            nodes' shared state.

            --since and --until take a duration back from now (30m, 24h, 7d) or an RFC 3339 time. Payloads are \
            shown (in --event, --trace and json output) only when the key file can open them.

            Exit codes: 0 ok; 1 the database or key could not be read; 64 usage error; 77 --policy does not grant history:read.
            """,
        subcommands: [HistoryPruneCommand.self])

    /// Output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv
    }

    @OptionGroup var location: HistoryLocationOptions
    @OptionGroup var storeOption: ClusterStoreOption
    var db: String? { location.db }
    var keyFile: String? { location.keyFile }
    var retiredKeyFile: [String] { location.retiredKeyFile }
    @Option(name: .long, help: "Only this rule's executions.") var rule: String?
    @Option(name: .long, help: "Only events whose type matches this pattern (ticket.*, ssh.**).") var type: String?
    @Option(name: .long, help: "ok, failed, denied, skipped; pending (scheduled entries not yet fired); queued (side effects not finished) or dead (side effects that gave up).") var status: String?
    @Option(name: .long, help: "Only executions since a duration ago (24h) or an RFC 3339 time.") var since: String?
    @Option(name: .long, help: "Only executions before a duration ago or an RFC 3339 time.") var until: String?
    @Option(name: .long, help: "Only executions under this key (a gate's key, or a keyed delay's or cancel's); with --status pending, only delays of this key.")
    var key: String?
    @Option(name: .long, help: ArgumentHelp("What this rule's count:, throttle: or after: gates hold now, per key (needs --rules and the key file).", valueName: "RULE"))
    var state: String?
    @Option(name: .long, help: ArgumentHelp("The rule set, for --state, and for --stats to list the rules that never fired.", valueName: "PATH"))
    var rules: [String] = []
    @Option(name: .long, help: ArgumentHelp("Only this event's executions, with the event itself.", valueName: "ID")) var event: String?
    @Option(name: .long, help: ArgumentHelp("The causal tree containing this event.", valueName: "ID")) var trace: String?
    @Option(name: .long, help: "At most N rows (default 50).") var limit: Int = 50
    @Option(name: .long, help: "table, json (JSON Lines) or csv.") var format: Format = .table
    @Flag(name: .long, help: "Per rule: events it fired on; per action and outcome: count, p50/p95 durations; rules that never fired.") var stats = false
    @OptionGroup var accessOptions: AccessOptions

    func validate() throws {
        try StateLocation.validatePaths(db: db, keyFile: keyFile, retiredKeyFiles: retiredKeyFile)
        try storeOption.validate(db: db)
        try validateStoreOptions()
        if let status, !["ok", "failed", "denied", "skipped", "pending", "queued", "dead"].contains(status) {
            throw ValidationError("--status must be ok, failed, denied, skipped, pending, queued or dead, not '\(status)'.")
        }
        if limit < 0 { throw ValidationError("--limit must be 0 or more.") }
        if state != nil && rules.isEmpty { throw ValidationError("--state needs --rules: the rule set whose gates to rebuild.") }
        if state == nil && !stats && !rules.isEmpty { throw ValidationError("--rules applies to --state and --stats only.") }
        if let type { _ = try pattern(type) }
        _ = try pointInTime(since, flag: "--since")
        _ = try pointInTime(until, flag: "--until")
    }

    func pattern(_ text: String) throws -> TypePattern {
        do { return try TypePattern(text) } catch let error as EventsError { throw ValidationError("--type: \(error.message)") }
    }

    /// The rule set `--rules` names, for `--state`; its errors are printed (exit 1).
    func stateRuleSet() throws -> RuleSet {
        let (documents, readProblems) = RuleDocuments.read(rules, keyFile: keyFile)
        let (loaded, diagnostics) = RuleSetLoader.load(documents: documents)
        for problem in readProblems.all + diagnostics.sorted where problem.severity == .error { printError(problem.description) }
        guard let ruleSet = loaded, !readProblems.hasErrors else { throw ExitCode(1) }
        return ruleSet
    }

    /// Writes what `--state` found (only `--key`'s row, when given), or why there is nothing (exit 1).
    func write(state: Result<[[String: JSONValue]], GateStateReport.NoState>, to output: OutputLines) throws {
        switch state {
        case .failure(let problem):
            printError("symphony: \(problem.message)")
            throw ExitCode(1)
        case .success(let rows):
            let shown = key.map { key in rows.filter { $0["key"] == .string(key) } } ?? rows
            write(shown, columns: ["gate", "key", "events", "first", "last", "detail"], to: output)
        }
    }

    func run() throws {
        if let url = storeOption.url(db: db) { return try runOnStore(url: url) }
        try accessOptions.require(.readHistory, with: try accessOptions.accessGuard(), recordIn: StateLocation.database(db), keyFile: keyFile)
        let path = StateLocation.database(db)
        guard FileManager.default.fileExists(atPath: path) else {
            printError("symphony: no history database at '\(path)'; 'symphony run' creates it (or pass --db).")
            throw ExitCode(1)
        }
        let reader: HistoryReader
        do {
            let key = try StateLocation.loadKey(keyFile, createIfMissing: false)
            let retired = try StateLocation.loadRetiredKeys(retiredKeyFile)
            reader = try HistoryReader(path: path, sealer: key.map { EnvelopeSealer(keyRing: KeyRing(active: $0, retired: retired)) })
            // Payloads sealed under another key are not shown (where they would be): say whose key they need, once.
            if event != nil || trace != nil || format == .json, let head = try? AuditReader(path: path).headKeyID() {
                let given = (key.map { [$0] } ?? []) + retired
                if !given.contains(where: { $0.idString == head }) {
                    printError(
                        "symphony: payloads are not shown: the history is written under key \(head), and "
                            + (given.isEmpty ? "no key file was found" : "the key given is \(given.map(\.idString).joined(separator: ", "))")
                            + "; pass its key with --key-file (older ones with --retired-key-file)")
                }
            }
        } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        } catch let error as StoreError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
        let output = OutputLines()
        defer { output.flush() }
        let filters = [
            ("rule", rule), ("type", type), ("status", status), ("since", since), ("until", until), ("event", event), ("trace", trace), ("key", key),
            ("state", state),
        ]
            .compactMap { name, value in value.map { "\(name)=\($0)" } } + (stats ? ["stats"] : [])
        CommandAudit.record(
            AuditRecord(principal: accessOptions.principal, operation: .historyQuery, target: path, outcome: "ok", details: filters.joined(separator: " ")),
            database: path, keyFile: keyFile)
        do {
            if let state {
                try write(state: try GateStateReport.rows(rule: state, ruleSet: try stateRuleSet(), reader: reader), to: output)
                return
            }
            if let trace {
                try write(trace: try reader.trace(trace), missing: "no event '\(trace)' in the history", to: output)
                return
            }
            let query = try executionQuery()
            if status == "pending" {
                write(pending: try reader.scheduled(state: "pending", rule: rule, type: query.type, key: key, limit: limit), to: output)
                return
            }
            if status == "queued" || status == "dead" {
                write(outbox: try reader.outbox(state: status == "dead" ? 2 : 0, rule: rule, limit: limit), to: output)
                return
            }
            if stats {
                try writeStats(reader.stats(query), lastLoaded: reader.lastLoadedRulePaths, to: output)
                return
            }
            if let event, format != .csv, let stored = try reader.event(id: event) {
                if format == .json { output.write(Self.json(stored).jsonText) } else { output.write(displayText(Self.describe(stored))) }
            }
            let rows = try reader.executions(query)
            if rows.isEmpty { try warnAboutUnknownFilters(ruleNames: reader.ruleNames, hasEvents: reader.hasEvents(ofType:)) }
            write(executions: rows, to: output)
        } catch let error as StoreError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
    }

    /// `--stats`: a row per rule, action and outcome, then the rules of the rule set (`--rules`, else
    /// the files the last run loaded, as `lastLoaded` reads them) that have no execution among those counted.
    func writeStats(_ rows: [StatsRow], lastLoaded: () throws -> [String]?, to output: OutputLines) throws {
        let columns = ["rule", "fired", "action", "outcome", "count", "p50_us", "p95_us"]
        var objects: [[String: JSONValue]] = rows.map {
            [
                "rule": .string($0.rule), "fired": .int(Int64($0.fired)), "action": .string($0.action), "outcome": .string($0.outcome),
                "count": .int(Int64($0.count)), "p50_us": .int($0.p50Microseconds), "p95_us": .int($0.p95Microseconds),
            ]
        }
        guard let (names, source) = try ruleNamesForStats(lastLoaded: lastLoaded) else { return write(objects, columns: columns, to: output) }
        let fired = Set(rows.map(\.rule))
        let never = names.filter { !fired.contains($0) }
        if format == .table {
            write(objects, columns: columns, to: output)
            output.write(
                displayText(
                    never.isEmpty
                        ? "every rule of \(source) fired"
                        : "never fired (rules of \(source) with no execution\(rule == nil && since == nil && until == nil && type == nil && status == nil && key == nil && event == nil ? "" : " matching the filters")): "
                            + never.joined(separator: ", ")))
        } else {
            objects += never.map { ["rule": .string($0), "fired": .int(0), "never_fired": .bool(true)] }
            write(objects, columns: columns, to: output)
        }
    }

    /// The rule names `--stats` checks for firings, and where they come from: `--rules`, else the
    /// files of the last `rules.load` record when they can still be read; nil when neither.
    private func ruleNamesForStats(lastLoaded: () throws -> [String]?) throws -> (names: [String], source: String)? {
        let paths: [String]
        let source: String
        if !rules.isEmpty {
            (paths, source) = (rules, rules.joined(separator: " "))
        } else if let loaded = try lastLoaded(), !loaded.isEmpty, loaded.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            (paths, source) = (loaded, "\(loaded.joined(separator: " ")) (as the last run loaded them, read now)")
        } else {
            return nil
        }
        let (documents, readProblems) = RuleDocuments.read(paths, keyFile: keyFile)
        let (loaded, diagnostics) = RuleSetLoader.load(documents: documents)
        guard let ruleSet = loaded, !readProblems.hasErrors else {
            guard !rules.isEmpty else { return nil }  // the last run's files changed since: say nothing about them
            for problem in readProblems.all + diagnostics.sorted where problem.severity == .error { printError(problem.description) }
            throw ExitCode(1)
        }
        return (ruleSet.rules.map(\.name), source)
    }

    /// When nothing matched, says so on stderr if a filter names a rule or an exact type the
    /// history has never seen (a typo, most likely), with the closest known rule.
    func warnAboutUnknownFilters(ruleNames: () throws -> [String], hasEvents: (String) throws -> Bool) throws {
        if let rule {
            let known = try ruleNames()
            if !known.contains(rule) {
                printError("symphony: the history has no execution of a rule named '\(rule)'\(NameSuggestion.hint(for: rule, in: known))")
            }
        }
        if let type, !type.contains("*"), !(try hasEvents(type)) {
            printError("symphony: the history has no event of type '\(type)'")
        }
    }

    /// The filters given, for the executions `history` lists.
    func executionQuery() throws -> HistoryQuery {
        var query = HistoryQuery()
        query.rule = rule
        query.type = try type.map(pattern)
        query.outcome = ["pending", "queued", "dead"].contains(status ?? "") ? nil : status
        query.since = try pointInTime(since, flag: "--since")
        query.until = try pointInTime(until, flag: "--until")
        query.eventID = event
        query.key = key
        query.limit = limit
        return query
    }

    /// Executions, most recent first: the rows `history` lists by default.
    func write(executions rows: [ExecutionRow], to output: OutputLines) {
        write(
            rows.map { row in
                var object: [String: JSONValue] = [
                    "started": .string(row.started.description), "event": .string(row.eventID),
                    "rule": .string(row.rule), "action": .string(row.action), "outcome": .string(row.outcome),
                    "duration_us": .int(row.durationMicroseconds),
                ]
                // A refused input event has no events row, so no type.
                if !row.eventType.isEmpty { object["type"] = .string(row.eventType) }
                if let error = row.error { object["error"] = .string(error) }
                if let message = row.message { object["message"] = .string(message) }
                if let derived = row.derivedEventID { object["derived"] = .string(derived) }
                if let key = row.key { object["key"] = .string(key) }
                return object
            },
            columns: ["started", "event", "type", "rule", "action", "outcome", "duration_us"] + (rows.contains { $0.key != nil } ? ["key"] : [])
                + ["message", "error"],
            to: output)
    }

    /// Side effects not finished (`--status queued`, with the next try's time) or dead letters (`--status dead`).
    func write(outbox rows: [OutboxRow], to output: OutputLines) {
        write(
            rows.map { row in
                var object: [String: JSONValue] = [
                    "queued": .string(row.queued.description), "action_key": .string(row.key), "rule": .string(row.rule),
                    "action": .string(row.action), "event": .string(row.eventID), "type": .string(row.eventType),
                    "tries": .int(Int64(row.attempts)),
                ]
                if status == "queued" { object["next_try"] = .string(row.next.description) }
                if let error = row.lastError { object["error"] = .string(error) }
                return object
            },
            columns: ["queued", "action_key", "action", "tries"] + (status == "queued" ? ["next_try"] : []) + ["error"], to: output)
    }

    /// Writes the causal tree from `root` (as JSON, or one line per node), or says `missing` and exits 1.
    func write(trace root: TraceNode?, missing: String, to output: OutputLines) throws {
        guard let root else {
            printError("symphony: \(missing).")
            throw ExitCode(1)
        }
        switch format {
        case .json: output.write(Self.json(root).jsonText)
        case .table, .csv: for line in Self.lines(root, indent: "") { output.write(displayText(line)) }
        }
    }

    /// Scheduled entries not fired yet, soonest first (`--status pending`).
    func write(pending rows: [ScheduledRow], to output: OutputLines) {
        write(
            rows.map {
                [
                    "id": .string($0.id), "due": .string($0.due.description), "event": .string($0.eventID), "type": .string($0.eventType),
                    "rule": $0.originRule.map(JSONValue.string) ?? .null, "key": $0.key.map(JSONValue.string) ?? .null,
                ]
            },
            columns: ["due", "id", "type", "event", "rule"] + (rows.contains { $0.key != nil } ? ["key"] : []), to: output)
    }

    func write(_ rows: [[String: JSONValue]], columns: [String], to output: OutputLines) {
        switch format {
        case .json:
            for row in rows { output.write(JSONValue.object(row).jsonText) }
        case .csv:
            output.write(columns.joined(separator: ","))
            for row in rows { output.write(columns.map { Self.csv(row[$0]) }.joined(separator: ",")) }
        case .table:
            let clippable = Set(columns.indices.filter { ["message", "error", "detail", "details", "payload"].contains(columns[$0]) })
            let table = TextTable(columns: columns.map { $0.uppercased() }, rows: rows.map { row in columns.map { Self.text(row[$0]) } }, clippable: clippable)
            for line in table.lines() { output.write(line) }
            if rows.isEmpty { output.write("(no rows)") }
        }
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: ""
        case .string(let text)?: text
        case let value?: value.jsonText
        }
    }

    static func csv(_ value: JSONValue?) -> String {
        let text = Self.text(value)
        // Bytes, not Characters: "\r\n" is one Character, equal to neither "\n" nor "\r".
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func describe(_ stored: StoredEvent) -> String {
        var text = "event \(stored.id) (\(stored.type)" + (stored.priority.map { ", priority \($0)" } ?? "") + ") received \(stored.received)"
        if let parent = stored.parentID { text += ", from \(parent) by rule '\(stored.rule ?? "")' (hop \(stored.hop))" }
        if let event = stored.event { text += " payload \(event.payload.jsonText)" }
        return text
    }

    static func json(_ stored: StoredEvent) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(stored.id), "type": .string(stored.type), "received": .string(stored.received.description), "hop": .int(Int64(stored.hop)),
        ]
        if let priority = stored.priority { object["priority"] = .int(Int64(priority)) }
        if let source = stored.source { object["source"] = .string(source) }
        if let parent = stored.parentID { object["parent"] = .string(parent) }
        if let rule = stored.rule { object["rule"] = .string(rule) }
        if let event = stored.event { object["payload"] = event.payload }
        return .object(object)
    }

    static func json(_ node: TraceNode) -> JSONValue {
        var object = json(node.event).objectValue ?? [:]
        object["executions"] = .array(node.executions.map { execution, child in
            var entry: [String: JSONValue] = [
                "rule": .string(execution.rule), "action": .string(execution.action), "outcome": .string(execution.outcome),
                "duration_us": .int(execution.durationMicroseconds),
            ]
            if let error = execution.error { entry["error"] = .string(error) }
            if let message = execution.message { entry["message"] = .string(message) }
            if execution.action == "delay", let due = child?.event.event?.time { entry["due"] = .string(due.description) }
            if let child {
                entry["derived"] = json(child)
            } else if let derived = execution.derivedEventID {
                entry["derived_id"] = .string(derived)  // derived but not followed (depth limit, or not stored)
            }
            return .object(entry)
        })
        if !node.unrecordedDelays.isEmpty { object["unrecorded_delays"] = .array(node.unrecordedDelays.map { json($0) }) }
        return .object(object)
    }

    static func lines(_ node: TraceNode, indent: String) -> [String] {
        var lines = [indent + describe(node.event)]
        for (execution, child) in node.executions {
            var line = indent + "  \(execution.rule) → \(execution.action): \(execution.outcome) (\(execution.durationMicroseconds) µs)"
            if execution.action == "delay", let due = child?.event.event?.time { line += " due \(due)" }
            if let message = execution.message { line += " “\(message)”" }
            if let error = execution.error { line += " — \(error)" }
            lines.append(line)
            if let child {
                lines += Self.lines(child, indent: indent + "    ")
            } else if let derived = execution.derivedEventID {
                // Derived, but not followed: the trace's depth limit (64), or an event not stored.
                lines.append(indent + "    → \(derived) (not followed: the trace stops at depth 64, or the event is not in the history)")
            }
        }
        for child in node.unrecordedDelays {
            // Its scheduled entry was committed and fired, but the execution of the delay that made it was lost.
            lines.append(indent + "  (delay not recorded; its scheduled entry fired)")
            lines += Self.lines(child, indent: indent + "    ")
        }
        return lines
    }
}
