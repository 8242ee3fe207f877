import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// `symphony history --store postgres://…`: what a cluster's nodes handled and what their
/// actions did, read with the same filters and rows as the SQLite history.
public struct PostgresHistoryReader: Sendable {
    private let url: String

    /// A reader of the database at `url`; fails when it cannot be reached or holds no Symphony tables.
    public init(url: String) throws {
        self.url = url
        let connection = try PostgresConnection(url: url)
        guard try connection.execute("SELECT to_regclass('symphony_schema') IS NOT NULL").text(0, 0) == "t" else {
            throw PostgresError(message: "the database holds no Symphony tables: no node has run against it ('symphony run --store URL' creates them)")
        }
        let version = try connection.execute("SELECT max(version) FROM symphony_schema").int(0, 0) ?? 0
        guard version <= Int64(PostgresSchema.version) else {
            throw PostgresError(message: "the database has Symphony schema \(version), newer than this symphony knows (\(PostgresSchema.version)); use a newer symphony")
        }
        guard version == Int64(PostgresSchema.version) else {
            throw PostgresError(
                message: "the database has Symphony schema \(version), older than this symphony reads (\(PostgresSchema.version)); a node of this version brings it up to date when it starts")
        }
    }

    /// Executions matching `query`, most recent first.
    public func executions(_ query: HistoryQuery) throws -> [ExecutionRow] {
        let (conditions, parameters) = Self.filters(query)
        // A wildcard type is matched here, page by page (newest first), until enough rows matched.
        let filterInSwift = query.type.map { !$0.isExact } ?? false
        let page = filterInSwift ? 1_000 : max(0, query.limit)
        let connection = try PostgresConnection(url: url)
        var found: [ExecutionRow] = []
        var before = Int64.max
        while found.count < query.limit {
            let rows = try connection.execute(
                """
                SELECT x.seq, x.event_id, COALESCE(h.event_type, ''), x.rule, x.action, x.outcome, x.error,
                       COALESCE(x.started_ns, x.finished_ns), x.finished_ns, x.derived_event_id, x.message, x.key
                FROM symphony_executions x LEFT JOIN symphony_handled h ON h.event_id = x.event_id
                WHERE \((conditions + ["x.seq < $\(parameters.count + 1)::bigint"]).joined(separator: " AND "))
                ORDER BY x.seq DESC LIMIT \(page)
                """, parameters + [.int(before)])
            for row in 0..<rows.count where found.count < query.limit {
                before = try rows.int(row, 0) ?? 0
                let eventType = rows.text(row, 2) ?? ""
                if filterInSwift, let type = query.type, eventType.isEmpty || !type.matches(eventType) { continue }
                let started = try rows.int(row, 7) ?? 0
                let finished = try rows.int(row, 8) ?? started
                found.append(
                    ExecutionRow(
                        sequence: before, eventID: rows.text(row, 1) ?? "", eventType: eventType, rule: rows.text(row, 3) ?? "",
                        action: rows.text(row, 4) ?? "", outcome: rows.text(row, 5) ?? "", error: rows.text(row, 6),
                        started: Timestamp(nanosecondsSinceEpoch: started), durationMicroseconds: max(0, finished - started) / 1_000,
                        derivedEventID: rows.text(row, 9), message: rows.text(row, 10), key: rows.text(row, 11)))
            }
            if rows.count < page || !filterInSwift { break }
        }
        return found
    }

    /// `--stats`: per rule, action and outcome, how many executions match `query` (its limit aside)
    /// and the nearest-rank p50 and p95 of their durations, with how many distinct events each rule acted on.
    public func stats(_ query: HistoryQuery) throws -> [StatsRow] {
        var (conditions, parameters) = Self.filters(query)
        let connection = try PostgresConnection(url: url)
        if let type = query.type, !type.isExact {
            // A wildcard: the types it matches, from the types the cluster handled.
            let known = try connection.execute("SELECT DISTINCT event_type FROM symphony_handled").values.compactMap { $0[0] }
            let types = known.filter(type.matches)
            guard !types.isEmpty else { return [] }
            parameters.append(.textArray(types))
            conditions.append("h.event_type = ANY($\(parameters.count)::text[])")
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let from = "FROM symphony_executions x LEFT JOIN symphony_handled h ON h.event_id = x.event_id \(filter)"
        let duration = "greatest(0, x.finished_ns - COALESCE(x.started_ns, x.finished_ns)) / 1000"
        let groups = try connection.execute(
            """
            SELECT x.rule, x.action, x.outcome, count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY \(duration)),
                   percentile_disc(0.95) WITHIN GROUP (ORDER BY \(duration))
            \(from) GROUP BY x.rule, x.action, x.outcome
            """, parameters)
        let firingRows = try connection.execute("SELECT x.rule, count(DISTINCT x.event_id) \(from) GROUP BY x.rule", parameters)
        var firings: [String: Int] = [:]
        for row in 0..<firingRows.count { firings[firingRows.text(row, 0) ?? ""] = Int(try firingRows.int(row, 1) ?? 0) }
        return try (0..<groups.count).map { row in
            let rule = groups.text(row, 0) ?? ""
            return StatsRow(
                rule: rule, fired: firings[rule] ?? 0, action: groups.text(row, 1) ?? "", outcome: groups.text(row, 2) ?? "",
                count: Int(try groups.int(row, 3) ?? 0), p50Microseconds: try groups.int(row, 4) ?? 0, p95Microseconds: try groups.int(row, 5) ?? 0)
        }.sorted { ($0.rule, $0.action, $0.outcome) < ($1.rule, $1.action, $1.outcome) }
    }

    /// The conditions (on `x`, the executions, and `h`, their handled events) and parameters of
    /// `query`'s filters; a wildcard type is left to the caller.
    private static func filters(_ query: HistoryQuery) -> (conditions: [String], parameters: [PostgresParameter]) {
        var conditions: [String] = []
        var parameters: [PostgresParameter] = []
        /// `column operator $n`, with the value bound to the next placeholder.
        func condition(_ column: String, _ comparison: String, _ value: PostgresParameter) {
            parameters.append(value)
            conditions.append("\(column) \(comparison) $\(parameters.count)" + (value.isInteger ? "::bigint" : ""))
        }
        if let rule = query.rule { condition("x.rule", "=", .text(rule)) }
        if let outcome = query.outcome { condition("x.outcome", "=", .text(outcome)) }
        if let since = query.since { condition("COALESCE(x.started_ns, x.finished_ns)", ">=", .int(since.nanosecondsSinceEpoch)) }
        if let until = query.until { condition("COALESCE(x.started_ns, x.finished_ns)", "<", .int(until.nanosecondsSinceEpoch)) }
        if let eventID = query.eventID { condition("x.event_id", "=", .text(eventID)) }
        if let key = query.key { condition("x.key", "=", .text(key)) }
        if let type = query.type, type.isExact { condition("h.event_type", "=", .text(type.text)) }
        return (conditions, parameters)
    }

    /// What `rule`'s gates hold, one record per gate and key, most recently changed first; rows
    /// stored under other settings than `settings` gives (the rule changed since) are left out.
    public func gateState(of rule: String, settings: (GateSlot) -> String?) throws -> [(slot: GateSlot, record: GateRecord)] {
        try PostgresGateStore.state(of: rule, settings: settings, on: try PostgresConnection(url: url))
    }

    /// The causal tree containing `eventID`, from its input event down (nil when no node handled
    /// it): each handled event with its executions and the events they derived, as far as nodes
    /// handled them. A cluster keeps no payloads nor priorities, and an event's time is when it was handled.
    public func trace(_ eventID: String) throws -> TraceNode? {
        let connection = try PostgresConnection(url: url)
        guard var root = try handledEvent(eventID, on: connection) else { return nil }
        var steps = 0
        while let parent = root.parentID, steps < 1_000, let up = try handledEvent(parent, on: connection) {
            root = up
            steps += 1
        }
        return try traceNode(for: root, depth: 0, on: connection)
    }

    private func handledEvent(_ id: String, on connection: PostgresConnection) throws -> StoredEvent? {
        let rows = try connection.execute(
            """
            SELECT event_id, event_type, hop, handled_ns, parent_id, rule FROM symphony_handled WHERE event_id = $1
            """, [.text(id)])
        guard rows.count == 1 else { return nil }
        return StoredEvent(
            id: rows.text(0, 0) ?? "", type: rows.text(0, 1) ?? "", priority: nil, source: nil,
            received: Timestamp(nanosecondsSinceEpoch: try rows.int(0, 3) ?? 0), parentID: rows.text(0, 4), rule: rows.text(0, 5),
            hop: Int(try rows.int(0, 2) ?? 0), event: nil)
    }

    private func traceNode(for event: StoredEvent, depth: Int, on connection: PostgresConnection) throws -> TraceNode {
        let rows = try connection.execute(
            """
            SELECT seq, rule, action, outcome, error, COALESCE(started_ns, finished_ns), finished_ns, derived_event_id, message, key
            FROM symphony_executions WHERE event_id = $1 ORDER BY seq
            """, [.text(event.id)])
        var children: [(execution: ExecutionRow, child: TraceNode?)] = []
        for row in 0..<rows.count {
            let started = try rows.int(row, 5) ?? 0
            let finished = try rows.int(row, 6) ?? started
            let execution = ExecutionRow(
                sequence: try rows.int(row, 0) ?? 0, eventID: event.id, eventType: event.type, rule: rows.text(row, 1) ?? "", action: rows.text(row, 2) ?? "",
                outcome: rows.text(row, 3) ?? "", error: rows.text(row, 4), started: Timestamp(nanosecondsSinceEpoch: started),
                durationMicroseconds: max(0, finished - started) / 1_000, derivedEventID: rows.text(row, 7), message: rows.text(row, 8), key: rows.text(row, 9))
            var child: TraceNode?
            if let derived = execution.derivedEventID, depth < 64, let stored = try handledEvent(derived, on: connection) {
                child = try traceNode(for: stored, depth: depth + 1, on: connection)
            }
            children.append((execution, child))
        }
        return TraceNode(event: event, executions: children, unrecordedDelays: [])
    }

    /// The rule files the last node to start loaded (its `rules.load` audit record), as
    /// `HistoryReader.lastLoadedRulePaths` reads them from a SQLite history; nil when none started.
    public func lastLoadedRulePaths() throws -> [String]? {
        try audit(principal: nil, operation: AuditOperation.rulesLoad.rawValue, since: nil, limit: 1).first.map {
            $0.target.split(separator: " ").map(String.init)
        }
    }

    /// The cluster's audit records, most recent first (`audit list --store`), with its filters.
    public func audit(principal: String?, operation: String?, since: Timestamp?, limit: Int) throws -> [AuditRecord] {
        try PostgresAuditTrail.list(principal: principal, operation: operation, since: since, limit: limit, on: try PostgresConnection(url: url))
    }

    /// Side effects in the cluster's outbox in `state` (0: not finished, 2: dead letters), oldest
    /// queued first (`rule` keeps one rule's). Done ones are not kept.
    public func outbox(state: Int64, rule: String? = nil, limit: Int = 50) throws -> [OutboxRow] {
        var parameters: [PostgresParameter] = [.int(state)]
        if let rule { parameters.append(.text(rule)) }
        let rows = try PostgresConnection(url: url).execute(
            """
            SELECT key, rule, kind, event_id, event_type, attempts, queued_ns, next_ns, last_error FROM symphony_outbox
            WHERE state = $1::smallint\(rule == nil ? "" : " AND rule = $2") ORDER BY queued_ns, key LIMIT \(max(0, limit))
            """, parameters)
        return try (0..<rows.count).map { row in
            OutboxRow(
                key: rows.text(row, 0) ?? "", rule: rows.text(row, 1) ?? "",
                action: (try rows.int(row, 2)).flatMap(ActionKind.init(rawValue:))?.description ?? "?", eventID: rows.text(row, 3) ?? "",
                eventType: rows.text(row, 4) ?? "", attempts: Int(try rows.int(row, 5) ?? 0), queued: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 6) ?? 0),
                next: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 7) ?? 0), lastError: rows.text(row, 8))
        }
    }

    /// Delayed and periodic events waiting in the cluster, soonest first, with the rule that made
    /// each (`rule` keeps one rule's). The cluster does not keep entries once fired.
    public func pending(type: TypePattern? = nil, key: String? = nil, rule: String? = nil, limit: Int = 50) throws -> [ScheduledRow] {
        var conditions: [String] = []
        var parameters: [PostgresParameter] = []
        if let rule {
            parameters.append(.text(rule))
            conditions.append("rule = $\(parameters.count)")
        }
        if let key {
            parameters.append(.text(key))
            conditions.append("key = $\(parameters.count)")
        }
        if let type, type.isExact {
            parameters.append(.text(type.text))
            conditions.append("event_type = $\(parameters.count)")
        }
        let filterInSwift = type.map { !$0.isExact } ?? false
        let rows = try PostgresConnection(url: url).execute(
            """
            SELECT id, due_ns, event_id, event_type, key, rule FROM symphony_scheduled
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY due_ns, stored
            \(filterInSwift ? "" : "LIMIT \(max(0, limit))")
            """, parameters)
        var found: [ScheduledRow] = []
        for row in 0..<rows.count where found.count < limit {
            let eventType = rows.text(row, 3) ?? ""
            if filterInSwift, let type, !type.matches(eventType) { continue }
            found.append(
                ScheduledRow(
                    id: rows.text(row, 0) ?? "", due: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 1) ?? 0), eventID: rows.text(row, 2) ?? "",
                    eventType: eventType, originRule: rows.text(row, 5), state: "pending", late: false, key: rows.text(row, 4)))
        }
        return found
    }

    /// The rule names that have executions: for warning about a `--rule` that names none.
    public func ruleNames() throws -> [String] {
        let rows = try PostgresConnection(url: url).execute("SELECT DISTINCT rule FROM symphony_executions")
        return (0..<rows.count).compactMap { rows.text($0, 0) }.sorted()
    }

    /// True when an event of exactly `type` was handled.
    public func hasEvents(ofType type: String) throws -> Bool {
        try PostgresConnection(url: url).execute("SELECT EXISTS (SELECT 1 FROM symphony_handled WHERE event_type = $1)", [.text(type)]).text(0, 0) == "t"
    }

    /// Checks every chain (`PostgresChainVerifier`).
    public func verify(keys: [EncryptionKey]) throws -> PostgresChainVerifier.Verdict {
        try PostgresChainVerifier.verify(on: try PostgresConnection(url: url), keys: keys)
    }
}

extension PostgresParameter {
    fileprivate var isInteger: Bool {
        if case .int = self { true } else { false }
    }
}
