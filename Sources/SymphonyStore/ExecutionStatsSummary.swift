/// The summary `symphony history --stats` reads without touching `executions` (schema 11): how
/// many executions each rule, action kind, outcome and duration has (`execution_stats`, an exact
/// histogram of `duration_us`), and how many distinct events each rule acted on (`rule_firings`).
///
/// The writer adds each batch's executions in the batch's own transaction, and a prune takes out
/// what it removes in its own, so the summary always agrees with `executions`. It is derived
/// data, not a record: the history chain does not cover it.
final class ExecutionStatsSummary {
    private struct Group: Hashable {
        let rule: String
        let kind: Int64
        let outcome: Int64
        let duration: Int64
    }

    private struct Pair: Hashable {
        let rule: String
        let eventID: String
    }

    private var counts: [Group: Int64] = [:]
    private var pairs: Set<Pair> = []
    private let addCount: SQLiteStatement
    private let addFirings: SQLiteStatement
    private let earlierRow: SQLiteStatement

    init(database: SQLiteDatabase) throws {
        addCount = try database.prepare(
            """
            INSERT INTO execution_stats (rule, kind, outcome, duration_us, count) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (rule, kind, outcome, duration_us) DO UPDATE SET count = count + excluded.count
            """)
        addFirings = try database.prepare(
            "INSERT INTO rule_firings (rule, events) VALUES (?, ?) ON CONFLICT (rule) DO UPDATE SET events = events + excluded.events")
        earlierRow = try database.prepare("SELECT 1 FROM executions WHERE event_id = ? AND rule = ? AND seq < ? LIMIT 1")
    }

    /// Forgets what was added since the last `write` (a new batch, or a failed one).
    func reset() {
        counts.removeAll(keepingCapacity: true)
        pairs.removeAll(keepingCapacity: true)
    }

    /// Counts an execution of the batch being written.
    func add(_ row: ExecutionInsert) {
        counts[Group(rule: row.rule, kind: row.kind, outcome: row.outcome, duration: row.durationMicroseconds), default: 0] += 1
        pairs.insert(Pair(rule: row.rule, eventID: row.eventID))
    }

    /// Adds the batch's counts; a rule's event counts once, unless an earlier batch (an execution
    /// numbered below `firstSequence`) already had it.
    func write(firstSequence: Int64) throws {
        for (group, count) in counts {
            try addCount.run([.text(group.rule), .int(group.kind), .int(group.outcome), .int(group.duration), .int(count)])
        }
        var firings: [String: Int64] = [:]
        try earlierRow.bind(3, firstSequence)  // kept across steps: only the first two are bound per pair
        for pair in pairs {
            try earlierRow.bind(1, pair.eventID)
            try earlierRow.bind(2, pair.rule)
            if try !earlierRow.hasRow() { firings[pair.rule, default: 0] += 1 }
        }
        for (rule, events) in firings { try addFirings.run([.text(rule), .int(events)]) }
        reset()
    }

    /// Takes out the executions numbered below `bound`, which a prune is about to delete.
    static func subtract(executionsBefore bound: Int64, in database: SQLiteDatabase) throws {
        try database.prepare(
            """
            UPDATE execution_stats SET count = count - d.n
            FROM (SELECT rule, kind, outcome, duration_us, count(*) AS n FROM executions WHERE seq < ?1 GROUP BY rule, kind, outcome, duration_us) d
            WHERE execution_stats.rule = d.rule AND execution_stats.kind = d.kind AND execution_stats.outcome = d.outcome
              AND execution_stats.duration_us = d.duration_us
            """
        ).run([.int(bound)])
        try database.prepare(
            """
            UPDATE rule_firings SET events = events - d.n
            FROM (SELECT rule, count(*) AS n FROM (
                    SELECT DISTINCT rule, event_id FROM executions x WHERE seq < ?1
                    AND NOT EXISTS (SELECT 1 FROM executions y WHERE y.event_id = x.event_id AND y.rule = x.rule AND y.seq >= ?1))
                  GROUP BY rule) d
            WHERE rule_firings.rule = d.rule
            """
        ).run([.int(bound)])
        try database.execute("DELETE FROM execution_stats WHERE count <= 0; DELETE FROM rule_firings WHERE events <= 0")
    }
}
