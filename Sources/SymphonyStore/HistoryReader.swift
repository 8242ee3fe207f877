import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// Reads the history database (read-only; safe while a writer writes, thanks to WAL).
public final class HistoryReader {
    private let database: SQLiteDatabase
    private let sealer: EnvelopeSealer?

    /// Opens `path` read-only; with a sealer, payloads can be shown.
    public init(path: String, sealer: EnvelopeSealer?) throws {
        database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        let version = try database.userVersion
        guard version == HistorySchema.currentVersion else {
            throw StoreError(
                code: -1,
                message: "The database '\(path)' has schema version \(version); this build reads version \(HistorySchema.currentVersion). "
                    + (version > HistorySchema.currentVersion ? "Upgrade Symphony." : "Run 'symphony run' once to migrate it."))
        }
        self.sealer = sealer
    }

    /// The SQL conditions on executions (`x`) for `query`'s filters other than the event type,
    /// which each caller matches its own way, and their values.
    private static func executionFilters(_ query: HistoryQuery) -> (conditions: [String], values: [SQLiteValue]) {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let rule = query.rule { conditions.append("x.rule = ?"); values.append(.text(rule)) }
        if let outcome = query.outcome { conditions.append("x.outcome = ?"); values.append(.int(ExecutionOutcome(name: outcome)?.rawValue ?? -1)) }
        if let since = query.since { conditions.append("x.started_ns >= ?"); values.append(.int(since.nanosecondsSinceEpoch)) }
        if let until = query.until { conditions.append("x.started_ns < ?"); values.append(.int(until.nanosecondsSinceEpoch)) }
        if let eventID = query.eventID { conditions.append("x.event_id = ?"); values.append(.text(eventID)) }
        if let key = query.key { conditions.append("x.key = ?"); values.append(.text(key)) }
        return (conditions, values)
    }

    /// Executions matching `query`, most recent first.
    public func executions(_ query: HistoryQuery) throws -> [ExecutionRow] {
        var (conditions, values) = Self.executionFilters(query)
        if let type = query.type, type.isExact { conditions.append("e.type = ?"); values.append(.text(type.text)) }
        let filterInSwift = query.type.map { !$0.isExact } ?? false
        let sql = """
            SELECT x.seq, x.event_id, COALESCE(e.type, ''), x.rule, x.kind, x.outcome, x.error, x.started_ns, x.duration_us, x.derived_event_id, x.message,
                   x.key
            FROM executions x LEFT JOIN events e ON e.id = x.event_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY x.seq DESC
            \(filterInSwift ? "" : "LIMIT \(max(0, query.limit))")
            """
        var rows = try database.prepare(sql).rows(values, Self.execution)
        if filterInSwift, let type = query.type {
            rows = Array(rows.filter { !$0.eventType.isEmpty && type.matches($0.eventType) }.prefix(max(0, query.limit)))  // a refused input has no type
        }
        return rows
    }

    /// The events a run would rebuild its rules' memory from (`HistoryRecorder.handledEvents`);
    /// inputs recorded but not handled are included. Needs the key.
    public func handledEvents(within horizon: Duration, isRelevant: (String) -> Bool) throws -> (events: [Event], unopenable: Int) {
        guard let sealer else { throw StoreError(code: -1, message: "Reading back recorded events needs the key file.") }
        var unopenable = 0
        let events = try database.readTransaction {
            try HistoryReplay.handledEvents(in: database, sealer: sealer, excluding: [], within: horizon, isRelevant: isRelevant) { _ in
                unopenable += 1
            }
        }
        return (events, unopenable)
    }

    /// Scheduled entries, pending ones first by due time.
    public func scheduled(state: String? = "pending", rule: String? = nil, type: TypePattern? = nil, key: String? = nil, limit: Int = 50) throws -> [ScheduledRow] {
        // Filtered in SQL like `executions(_:)`: the state, the origin rule, an exact type; a wildcard type in Swift.
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let state { conditions.append("state = ?"); values.append(.text(state)) }
        if let rule { conditions.append("origin_rule = ?"); values.append(.text(rule)) }
        if let key { conditions.append("key = ?"); values.append(.text(key)) }
        if let type, type.isExact { conditions.append("event_type = ?"); values.append(.text(type.text)) }
        let filterInSwift = type.map { !$0.isExact } ?? false
        let sql = """
            SELECT id, due_ns, event_id, event_type, origin_rule, state, late, key FROM scheduled
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY due_ns
            \(filterInSwift ? "" : "LIMIT \(max(0, limit))")
            """
        let rows = try database.prepare(sql).rows(values) { row in
            ScheduledRow(
                id: row.text(0) ?? "", due: Timestamp(nanosecondsSinceEpoch: row.int(1)), eventID: row.text(2) ?? "",
                eventType: row.text(3) ?? "", originRule: row.text(4), state: row.text(5) ?? "", late: row.int(6) != 0, key: row.text(7))
        }
        guard filterInSwift, let type else { return rows }
        return Array(rows.filter { type.matches($0.eventType) }.prefix(max(0, limit)))
    }

    /// Side effects in the outbox in `state` (0 queued or awaiting a retry, 2 dead letters), oldest first.
    public func outbox(state: Int64, rule: String? = nil, limit: Int = 50) throws -> [OutboxRow] {
        var conditions = ["state = ?"]
        var values: [SQLiteValue] = [.int(state)]
        if let rule { conditions.append("rule = ?"); values.append(.text(rule)) }
        let sql = """
            SELECT o.action_key, o.rule, k.name, o.event_id, o.event_type, o.attempts, o.queued_ns, o.next_ns, o.last_error
            FROM outbox o LEFT JOIN action_kinds k ON k.code = o.kind
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY o.queue_seq LIMIT \(max(0, limit))
            """
        return try database.prepare(sql).rows(values) { row in
            OutboxRow(
                key: row.text(0) ?? "", rule: row.text(1) ?? "", action: row.text(2) ?? "", eventID: row.text(3) ?? "", eventType: row.text(4) ?? "",
                attempts: Int(row.int(5)), queued: Timestamp(nanosecondsSinceEpoch: row.int(6)), next: Timestamp(nanosecondsSinceEpoch: row.int(7)),
                lastError: row.text(8))
        }
    }

    /// The rule names the history has executions of, sorted (for telling a misspelt `--rule`).
    public func ruleNames() throws -> [String] {
        try database.prepare("SELECT DISTINCT rule FROM executions ORDER BY rule").rows { $0.text(0) ?? "" }
    }

    /// True when some recorded event has exactly this type.
    public func hasEvents(ofType type: String) throws -> Bool {
        !(try database.prepare("SELECT 1 FROM events WHERE type = ? LIMIT 1").rows([.text(type)]) { $0.int(0) }.isEmpty)
    }

    /// One stored event.
    public func event(id: String) throws -> StoredEvent? {
        let statement = try database.prepare(
            "SELECT id, type, priority, source, received_ns, parent_id, rule, hop, payload FROM events WHERE id = ?")
        return try statement.rows([.text(id)]) { row in
            let id = row.text(0) ?? ""
            let type = row.text(1) ?? ""
            let priority = Int(row.int(2))
            var event: Event?
            if let sealer, let envelope = row.blob(8) {
                event = try? SealedEvent(id: id, type: type, priority: priority, envelope: envelope).open(with: sealer)
            }
            return StoredEvent(
                id: id, type: type, priority: priority, source: row.text(3), received: Timestamp(nanosecondsSinceEpoch: row.int(4)),
                parentID: row.text(5), rule: row.text(6), hop: Int(row.int(7)), event: event)
        }.first
    }

    /// The causal tree containing `eventID`, from its input event down (nil when the event is unknown).
    ///
    /// An event's children are the events its executions derived and the delayed events that fired
    /// with it as their parent (`events.parent_id`) although no execution of it records deriving
    /// them (`TraceNode.unrecordedDelays`): those are read once per trace from the fired entries in
    /// `scheduled`.
    public func trace(_ eventID: String) throws -> TraceNode? {
        guard var root = try event(id: eventID) else { return nil }
        var steps = 0
        while let parent = root.parentID, steps < 1_000, let up = try event(id: parent) {
            root = up
            steps += 1
        }
        var firedDelays: [String: [String]] = [:]
        let fired = try database.prepare(
            """
            SELECT e.parent_id, e.id FROM scheduled s JOIN events e ON e.id = s.event_id
            WHERE s.state = 'done' AND e.parent_id IS NOT NULL ORDER BY s.fired_ns, s.id
            """
        ).rows { ($0.text(0) ?? "", $0.text(1) ?? "") }
        for (parent, child) in fired { firedDelays[parent, default: []].append(child) }
        return try node(for: root, depth: 0, firedDelays: firedDelays)
    }

    private func node(for event: StoredEvent, depth: Int, firedDelays: [String: [String]]) throws -> TraceNode {
        let executions = try database.prepare(
            """
            SELECT x.seq, x.event_id, ?, x.rule, x.kind, x.outcome, x.error, x.started_ns, x.duration_us, x.derived_event_id, x.message
            FROM executions x WHERE x.event_id = ? ORDER BY x.seq
            """
        ).rows([.text(event.type), .text(event.id)], Self.execution)
        var children: [(ExecutionRow, TraceNode?)] = []
        for execution in executions {
            var child: TraceNode?
            if let derived = execution.derivedEventID, depth < 64, let stored = try self.event(id: derived) {
                child = try node(for: stored, depth: depth + 1, firedDelays: firedDelays)
            }
            children.append((execution, child))
        }
        var unrecorded: [TraceNode] = []
        if depth < 64, let delayed = firedDelays[event.id] {
            let derived = Set(executions.compactMap(\.derivedEventID))
            for id in delayed where !derived.contains(id) {
                if let stored = try self.event(id: id) { unrecorded.append(try node(for: stored, depth: depth + 1, firedDelays: firedDelays)) }
            }
        }
        return TraceNode(event: event, executions: children, unrecordedDelays: unrecorded)
    }

    /// Counts and p50/p95 durations per rule, action kind and outcome for the executions matching
    /// `query` (its limit is ignored), and the distinct events each rule acted on; ordered by rule,
    /// action and outcome. Reads the summary the writer keeps when the filters are at most a rule,
    /// else aggregates the matching rows in SQL; either way memory holds one group's distinct
    /// durations at a time, never the rows.
    public func stats(_ query: HistoryQuery) throws -> [StatsRow] {
        try database.readTransaction {
            let fromSummary = query.type == nil && query.outcome == nil && query.since == nil && query.until == nil && query.eventID == nil && query.key == nil
            var (conditions, values) = Self.executionFilters(query)
            if let type = query.type {
                // A wildcard: the types it matches, from the types the history has.
                let types = type.isExact ? [type.text] : try database.prepare("SELECT DISTINCT type FROM events").rows { $0.text(0) ?? "" }.filter(type.matches)
                guard !types.isEmpty else { return [] }
                conditions.append("e.type IN (\(Array(repeating: "?", count: types.count).joined(separator: ", ")))")
                values += types.map { .text($0) }
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let join = query.type == nil ? "" : "JOIN events e ON e.id = x.event_id"
            let histogram: String
            let firings: [String: Int]
            if fromSummary {
                histogram = "SELECT x.rule, x.kind, x.outcome, x.duration_us, x.count FROM execution_stats x \(filter) ORDER BY x.rule, x.kind, x.outcome, x.duration_us"
                firings = Dictionary(
                    try database.prepare("SELECT x.rule, x.events FROM rule_firings x \(filter)").rows(values) { ($0.text(0) ?? "", Int($0.int(1))) },
                    uniquingKeysWith: +)
            } else {
                histogram = """
                    SELECT x.rule, x.kind, x.outcome, x.duration_us, count(*) FROM executions x \(join) \(filter)
                    GROUP BY x.rule, x.kind, x.outcome, x.duration_us ORDER BY x.rule, x.kind, x.outcome, x.duration_us
                    """
                firings = Dictionary(
                    try database.prepare("SELECT x.rule, count(DISTINCT x.event_id) FROM executions x \(join) \(filter) GROUP BY x.rule").rows(values) {
                        ($0.text(0) ?? "", Int($0.int(1)))
                    }, uniquingKeysWith: +)
            }
            var rows: [StatsRow] = []
            var group: (rule: String, kind: Int64, outcome: Int64)?
            var durations: [(value: Int64, count: Int64)] = []
            func emit() {
                guard let current = group else { return }
                let count = durations.reduce(0) { $0 + $1.count }
                // Nearest rank: the value at position ⌈n·p⌉ of the sorted durations.
                func percentile(_ rank: Int64) -> Int64 {
                    var seen: Int64 = 0
                    for (value, times) in durations {
                        seen += times
                        if seen >= rank { return value }
                    }
                    return durations.last?.value ?? 0
                }
                rows.append(
                    StatsRow(
                        rule: current.rule, fired: firings[current.rule] ?? 0, action: ActionKind(rawValue: current.kind)?.name ?? "unknown",
                        outcome: ExecutionOutcome(rawValue: current.outcome)?.name ?? "unknown", count: Int(count),
                        p50Microseconds: percentile((count + 1) / 2), p95Microseconds: percentile((count * 95 + 99) / 100)))
                durations.removeAll(keepingCapacity: true)
            }
            let statement = try database.prepare(histogram)
            try statement.bind(values)
            while try statement.step() {
                let rule = statement.text(0) ?? ""
                let (kind, outcome) = (statement.int(1), statement.int(2))
                if group?.rule != rule || group?.kind != kind || group?.outcome != outcome {
                    emit()
                    group = (rule, kind, outcome)
                }
                durations.append((statement.int(3), statement.int(4)))
            }
            emit()
            return rows.sorted { ($0.rule, $0.action, $0.outcome) < ($1.rule, $1.action, $1.outcome) }
        }
    }

    /// The rule paths of the last `rules.load` audit record (what the last run loaded), if any.
    public func lastLoadedRulePaths() throws -> [String]? {
        try database.prepare("SELECT target FROM audit WHERE operation = 'rules.load' ORDER BY seq DESC LIMIT 1").rows {
            ($0.text(0) ?? "").split(separator: " ").map(String.init)
        }.first
    }

    private static func execution(_ row: SQLiteStatement) -> ExecutionRow {
        ExecutionRow(
            sequence: row.int(0), eventID: row.text(1) ?? "", eventType: row.text(2) ?? "", rule: row.text(3) ?? "",
            action: ActionKind(rawValue: row.int(4))?.name ?? "unknown", outcome: ExecutionOutcome(rawValue: row.int(5))?.name ?? "unknown",
            error: row.text(6), started: Timestamp(nanosecondsSinceEpoch: row.int(7)), durationMicroseconds: row.int(8), derivedEventID: row.text(9),
            message: row.text(10), key: row.text(11))
    }
}
