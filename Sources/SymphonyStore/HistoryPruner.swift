import SymphonyCrypto
import SymphonyEvents

/// Removes a prefix of the history chain — whole links, with every row they covered — and signs
/// the new start (`ChainStart`), so the rest still verifies (docs/reference/history-database.md, "Retention").
///
/// Rows of every chained table are stored in link order (the verifier insists), so a link's rows
/// are a prefix of each table by row order: each table is cut at its first row of a later link.
/// Runs inside the caller's transaction: a write transaction of the history writer, or a read
/// transaction for a dry run.
struct HistoryPruner {
    let database: SQLiteDatabase

    /// The chained tables, with the column that orders their rows.
    private static let tables: [(name: String, order: String)] = [
        ("events", "rowid"), ("executions", "seq"), ("scheduled", "rowid"), ("scheduled_changes", "seq"), ("dead_letters", "seq"), ("audit", "seq"),
    ]

    /// The links that can go before `cut`: a prefix of the chain, every link of it committed before
    /// the cut; with `maxRows`, stopping before the link of the `maxRows`-th event or execution.
    func plan(cut: Timestamp, maxRows: Int?) throws -> PruneSummary {
        let bounds = try database.prepare("SELECT min(seq), max(seq) FROM chain").rows { ($0.int(0), $0.int(1)) }
        guard let (first, end) = bounds.first, end > 0 else {
            return PruneSummary(cut: cut, firstLink: 1, lastLink: 0, budgetReached: false)
        }
        var last = try database.prepare("SELECT seq FROM chain WHERE time_ns >= ? ORDER BY seq LIMIT 1").rows([.int(cut.nanosecondsSinceEpoch)]) {
            $0.int(0) - 1
        }.first ?? end
        var budgetReached = false
        // Pending delays and the intake mark hold no link back: a prune carries them forward (`prune`).
        func hold(before link: Int64) -> Bool {
            guard link - 1 < last else { return false }
            last = link - 1
            return true
        }
        if let maxRows {
            for table in ["events", "executions"] {
                let order = table == "events" ? "rowid" : "seq"
                let row = try database.prepare("SELECT coalesce(link, 1) FROM \(table) ORDER BY \(order) LIMIT 1 OFFSET ?").rows([.int(Int64(maxRows))]) {
                    $0.int(0)
                }
                // At least one link per pass, however many rows it has.
                if let link = row.first, hold(before: max(link, first + 1)) { budgetReached = true }
            }
        }
        return PruneSummary(cut: cut, firstLink: first, lastLink: last, budgetReached: budgetReached && last >= first)
    }

    /// The rows `plan` would remove, counted (a dry run).
    func counted(_ plan: PruneSummary) throws -> PruneSummary {
        var counted = plan
        if plan.lastLink >= plan.firstLink {
            var counts: [Int] = []
            for table in Self.tables {
                let bound = try boundary(of: table.name, order: table.order, after: plan.lastLink)
                counts.append(
                    Int(try database.prepare("SELECT count(*) FROM \(table.name) WHERE \(table.order) < ?").rows([.int(bound)]) { $0.int(0) }.first ?? 0))
            }
            (counted.events, counted.executions, counted.scheduled, counted.scheduledChanges, counted.deadLetters, counted.audit) =
                (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5])
            counted.carried = try pendingEntries(through: plan.lastLink).count
        }
        counted.outbox = Int(
            try database.prepare("SELECT count(*) FROM outbox WHERE state = 1 AND queued_ns < ?").rows([.int(plan.cut.nanosecondsSinceEpoch)]) { $0.int(0) }
                .first ?? 0)
        return counted
    }

    /// Removes what `plan` names, after checking every row of those links (a prune must not erase
    /// the evidence of tampering), and records the new start signed under `macKey`. Call inside a
    /// write transaction; `keys` check the links and any earlier start.
    ///
    /// Delayed events still pending that those links scheduled are removed with them and returned,
    /// to be recorded again by the caller's own link; so is the intake mark when the last one goes
    /// (`carriedMark`, the id of the event it names).
    func prune(_ plan: PruneSummary, principal: String, keyID: String, macKey: [UInt8], keys: [EncryptionKey]) throws
        -> (summary: PruneSummary, carried: [ScheduledInsert], carriedMark: String?)
    {
        var done = plan
        var carried: [ScheduledInsert] = []
        var carriedMark: String?
        if plan.lastLink >= plan.firstLink {
            if let problem = try ChainVerifier(database: database, keys: keys, scope: .everything).problem(through: plan.lastLink) {
                throw StoreError(
                    code: -1,
                    message: "The links to prune do not verify (\(problem)); nothing was pruned. Run 'symphony audit verify' and investigate.")
            }
            guard let databaseID = try ChainStart.databaseID(in: database),
                let hash = try database.prepare("SELECT hash FROM chain WHERE seq = ?").rows([.int(plan.lastLink)], { $0.blob(0) ?? [] }).first
            else { throw StoreError(code: -1, message: "The history chain has no database id or lacks link \(plan.lastLink); nothing was pruned.") }
            let start = ChainStart(
                databaseID: databaseID, link: plan.lastLink, hash: hash, cut: plan.cut, pruned: .now(), principal: principal, keyID: keyID, macKey: macKey)
            // The highest sequence numbers used so far: the writer goes on after them, even once a table is empty.
            let floors = try database.prepare(
                """
                SELECT max(coalesce((SELECT max(seq) FROM executions), 0), coalesce((SELECT max(executions_seq) FROM chain_start), 0)),
                       max(coalesce((SELECT max(seq) FROM dead_letters), 0), coalesce((SELECT max(dead_letters_seq) FROM chain_start), 0)),
                       max(coalesce((SELECT max(seq) FROM scheduled_changes), 0), coalesce((SELECT max(changes_seq) FROM chain_start), 0)),
                       max(coalesce((SELECT max(seq) FROM audit), 0), coalesce((SELECT max(audit_seq) FROM chain_start), 0))
                """
            ).rows { [$0.int(0), $0.int(1), $0.int(2), $0.int(3)] }[0]
            // First: the triggers on `chain` and `audit` allow deleting only up to the latest start.
            try database.prepare(
                """
                INSERT INTO chain_start (link, hash, database_id, cut_ns, pruned_ns, principal, key_id, mac, executions_seq, dead_letters_seq, changes_seq, audit_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ).run([
                .int(start.link), .blob(start.hash), .text(start.databaseID), .int(start.cut.nanosecondsSinceEpoch), .int(start.pruned.nanosecondsSinceEpoch),
                .text(start.principal), .text(start.keyID), .blob(start.mac), .int(floors[0]), .int(floors[1]), .int(floors[2]), .int(floors[3]),
            ])
            carried = try pendingEntries(through: plan.lastLink)
            done.carried = carried.count
            let mark = try database.prepare("SELECT seq, note FROM chain WHERE note LIKE '\(ChainLink.intakeNotePrefix)%' ORDER BY seq DESC LIMIT 1").rows {
                ($0.int(0), $0.text(1) ?? "")
            }
            if let (link, note) = mark.first, link <= plan.lastLink { carriedMark = String(note.dropFirst(ChainLink.intakeNotePrefix.count)) }
            var counts: [Int] = []
            for table in Self.tables {
                let bound = try boundary(of: table.name, order: table.order, after: plan.lastLink)
                if table.name == "executions" { try ExecutionStatsSummary.subtract(executionsBefore: bound, in: database) }
                try database.prepare("DELETE FROM \(table.name) WHERE \(table.order) < ?").run([.int(bound)])
                counts.append(database.changes)
            }
            (done.events, done.executions, done.scheduled, done.scheduledChanges, done.deadLetters, done.audit) =
                (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5])
            try database.prepare("DELETE FROM chain WHERE seq <= ?").run([.int(plan.lastLink)])
        }
        try database.prepare("DELETE FROM outbox WHERE state = 1 AND queued_ns < ?").run([.int(plan.cut.nanosecondsSinceEpoch)])
        done.outbox = database.changes
        return (done, carried, carriedMark)
    }

    /// The delayed events still pending that links up to `last` scheduled, in row order.
    private func pendingEntries(through last: Int64) throws -> [ScheduledInsert] {
        try database.prepare(
            """
            SELECT id, due_ns, interval_ns, event_id, event_type, priority, origin_rule, envelope, key FROM scheduled
            WHERE state = 'pending' AND coalesce(link, 1) <= ? ORDER BY rowid
            """
        ).rows([.int(last)]) { row in
            ScheduledInsert(
                id: row.text(0) ?? "", dueNS: row.int(1), intervalNS: row.isNull(2) ? nil : row.int(2), eventID: row.text(3) ?? "",
                eventType: row.text(4) ?? "", priority: row.int(5), originRule: row.text(6), envelope: row.blob(7) ?? [], key: row.text(8))
        }
    }

    /// The ordering value of `table`'s first row of a link after `last` (rows before it belong to
    /// links up to `last`); `Int64.max` when every row does.
    private func boundary(of table: String, order: String, after last: Int64) throws -> Int64 {
        try database.prepare("SELECT \(order) FROM \(table) WHERE link > ? ORDER BY \(order) LIMIT 1").rows([.int(last)]) { $0.int(0) }.first ?? Int64.max
    }
}
