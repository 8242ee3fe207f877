import SymphonyEvents
import SymphonyJSON
import SymphonyRecords

/// The outbox: side effects queued with the executions of the event that caused them, tried
/// until done or dead (see `OutboxEntry`). Requests are sealed; the rest is plain for queries.
extension HistoryStore {
    /// Records executions and queues `actions` in the same hand-off — so the same commit — then
    /// calls `whenDurable` from the writer thread once that commit is done.
    public func record(
        _ executions: [ExecutionRecord], audits: [AuditRecord], queuing actions: [OutboxEntry], completing fired: (entry: FiredEntry, event: Event)?,
        whenDurable: @escaping @Sendable ([OutboxEntry]) -> Void
    ) {
        guard !actions.isEmpty else { return record(executions, audits: audits, completing: fired) }
        var rows: [HistoryRow] = []
        rows.reserveCapacity(executions.count + audits.count + actions.count + 2)
        if let fired { rows.append(sqliteScheduledEntries.doneRow(for: fired.entry, event: fired.event)) }
        for execution in executions { rows.append(executionRow(for: execution)) }
        for record in audits { rows.append(.audit(record)) }
        var queued: [OutboxEntry] = []
        for entry in actions {
            guard let row = outboxRow(for: entry) else { continue }
            rows.append(row)
            queued.append(entry)
        }
        let durable = queued
        rows.append(
            .afterCommit { alreadyQueued in
                // An entry queued before (its event handled again after a crash, or twice in one run)
                // runs from the outbox already, or from the hand-off that queued it first.
                let new = alreadyQueued.isEmpty ? durable : durable.filter { !alreadyQueued.contains($0.key) }
                if !new.isEmpty { whenDurable(new) }
            })
        writer.append(contentsOf: rows)
    }

    private func outboxRow(for entry: OutboxEntry) -> HistoryRow? {
        let plaintext = Array(entry.storedJSON.jsonText.utf8)
        guard let sealed = Self.seal(what: "a side effect's request", logger: logger, { try sealer.seal(plaintext, context: HistoryEnvelopes.outbox(actionKey: entry.key)) })
        else { return nil }
        return .outboxQueued(
            OutboxInsert(
                key: entry.key, eventID: entry.eventID, eventType: entry.eventType, rule: entry.rule, kind: entry.kind.rawValue, gateKey: entry.gateKey,
                request: sealed, queuedNS: entry.queued.nanosecondsSinceEpoch, nextNS: entry.nextAttempt.nanosecondsSinceEpoch))
    }

    /// Records a try's execution and the entry's new state in one hand-off (one commit).
    public func recordAttempt(_ execution: ExecutionRecord, of entry: OutboxEntry, state: OutboxState) {
        let (nextNS, lastError): (Int64, String?) =
            switch state {
            case .done: (entry.nextAttempt.nanosecondsSinceEpoch, execution.error)
            case .retry(let at): (at.nanosecondsSinceEpoch, execution.error)
            case .dead(let reason): (entry.nextAttempt.nanosecondsSinceEpoch, reason)
            }
        writer.append(contentsOf: [
            executionRow(for: execution),
            .outboxUpdate(key: entry.key, state: state.code, attempts: Int64(entry.attempts + 1), nextNS: nextNS, lastError: lastError),
        ])
    }

    /// Side effects queued and not finished (pending or awaiting a retry), in queue order.
    public func pendingActions() throws -> [OutboxEntry] {
        try outboxEntries(state: 0).map(\.entry)
    }

    /// The first `limit` side effects queued and not finished, in queue order.
    public func pendingActions(limit: Int) throws -> [OutboxEntry] {
        try outboxEntries(state: 0, limit: limit).map(\.entry)
    }

    /// Side effects that gave up, oldest first, with why.
    public func deadActions() throws -> [(entry: OutboxEntry, reason: String)] {
        try outboxEntries(state: 2).map { ($0.entry, $0.lastError ?? "") }
    }

    /// Queues dead letters again (all of them, or those whose action key is in `keys`), with a
    /// fresh count of tries starting `now`; returns them. The change is committed when this returns.
    public func requeueDeadActions(keys: Set<String>?, now: Timestamp) throws -> [OutboxEntry] {
        var requeued: [OutboxEntry] = []
        for (entry, _) in try deadActions() where keys?.contains(entry.key) ?? true {
            let fresh = OutboxEntry(
                key: entry.key, eventID: entry.eventID, eventType: entry.eventType, rule: entry.rule, request: entry.request, retry: entry.retry,
                gateKey: entry.gateKey, queued: now, attempts: 0, nextAttempt: now)
            writer.append(.outboxRequeue(key: entry.key, nowNS: now.nanosecondsSinceEpoch))
            requeued.append(fresh)
        }
        try flush()
        return requeued
    }

    private func outboxEntries(state: Int64, limit: Int? = nil) throws -> [(entry: OutboxEntry, lastError: String?)] {
        let database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        let rows = try database.readTransaction {
            try database.prepare(
                """
                SELECT action_key, event_id, event_type, rule, gate_key, request, attempts, queued_ns, next_ns, last_error
                FROM outbox WHERE state = ? ORDER BY queue_seq\(limit.map { " LIMIT \(max(0, $0))" } ?? "")
                """
            ).rows([.int(state)]) { row in
                (
                    key: row.text(0) ?? "", eventID: row.text(1) ?? "", eventType: row.text(2) ?? "", rule: row.text(3) ?? "", gateKey: row.text(4),
                    request: row.blob(5) ?? [], attempts: row.int(6), queuedNS: row.int(7), nextNS: row.int(8), lastError: row.text(9)
                )
            }
        }
        return rows.compactMap { row in
            guard let plaintext = try? sealer.open(row.request, context: HistoryEnvelopes.outbox(actionKey: row.key)),
                let json = try? plaintext.withUnsafeBufferPointer({ try JSONParser.parse($0) }),
                let (request, retry) = OutboxEntry.parseStored(json)
            else {
                logger.error("a queued side effect cannot be opened with the keys given; it is left as it is", metadata: ["action": "\(row.key)"])
                return nil
            }
            let entry = OutboxEntry(
                key: row.key, eventID: row.eventID, eventType: row.eventType, rule: row.rule, request: request, retry: retry, gateKey: row.gateKey,
                queued: Timestamp(nanosecondsSinceEpoch: row.queuedNS), attempts: Int(row.attempts),
                nextAttempt: Timestamp(nanosecondsSinceEpoch: row.nextNS))
            return (entry, row.lastError)
        }
    }
}
