import SymphonyEvents
import SymphonyRecords

/// One thing to remember, queued for the history writer.
///
/// Rows are flat — strings, integers and already-sealed bytes, built on the recording thread —
/// so the single writer thread only binds and steps statements, and never pays for copying or
/// freeing an event's payload tree.
enum HistoryRow: Sendable {
    /// An input event (or any event first seen here); stored once per id.
    case event(EventInsert)
    /// What an action did; its derived event, if any, is stored too.
    case execution(ExecutionInsert)
    /// An input line that was not a valid event; `content` is already sealed.
    case deadLetter(DeadLetterInsert)
    /// A scheduled entry fired: its event is stored and the entry marked done in the same transaction.
    case scheduledFired(id: String, event: EventInsert, late: Bool)
    /// A scheduled entry to keep (insert, or move a periodic entry to its next due time).
    case scheduledSave(ScheduledInsert)
    /// A scheduled entry cancelled.
    case scheduledCancel(id: String)
    /// An audit record; the writer chains it (sequence and hash) and moves the authenticated head.
    case audit(AuditRecord)
    /// No row: makes the writer commit a link that carries the current intake mark.
    case intakeMark
    /// A side effect queued in the outbox (ignored when its key is already there).
    case outboxQueued(OutboxInsert)
    /// A side effect's state after a try (or `symphony retry` queueing a dead letter again).
    case outboxUpdate(key: String, state: Int64, attempts: Int64, nextNS: Int64, lastError: String?)
    /// How far a followed file was read (written with the events read from it).
    case filePosition(FilePosition)
    /// A dead letter queued again (`symphony retry`): pending, no tries, its time budget from now.
    case outboxRequeue(key: String, nowNS: Int64)
    /// No row: called once the batch that carries it is committed (never when it fails), with the
    /// action keys of the outbox rows queued with it (after the batch's previous `afterCommit`) whose
    /// entries were there already: queued before the batch, or by an earlier row of the same batch.
    case afterCommit(@Sendable (_ alreadyQueued: Set<String>) -> Void)
    /// Removes the links committed before a cut, with their rows, in this batch's transaction; the
    /// batch's link carries the `history.prune` record.
    case prune(PruneRequest)
}

extension HistoryRow {
    /// About how many bytes the row holds beyond its fixed fields: sealed payloads and chain
    /// encodings (what grows with an event's size), for the writer's byte bound.
    var bufferedBytes: Int {
        switch self {
        case .event(let event): event.bufferedBytes
        case .execution(let execution): execution.encoded.count + (execution.derived?.bufferedBytes ?? 0)
        case .scheduledFired(_, let event, _): event.bufferedBytes
        case .scheduledSave(let entry): entry.envelope.count
        case .deadLetter(let letter): letter.content?.count ?? 0
        case .outboxQueued(let entry): entry.request.count
        case .audit, .intakeMark, .outboxUpdate, .filePosition, .outboxRequeue, .afterCommit, .prune, .scheduledCancel: 0
        }
    }
}

extension EventInsert {
    /// The sealed payload and the chain encoding (which holds the payload again).
    var bufferedBytes: Int { (payload?.count ?? 0) + encoded.count }
}

/// A prune queued for the history writer.
struct PruneRequest: Sendable {
    let cut: Timestamp
    let principal: String
    /// Appended to the audit record's details (`; retention 30d`).
    let reason: String
    /// At most about this many events and executions (`run --retain` passes); nil for no limit.
    let maxRows: Int?
    /// Called on the writer thread once the prune is committed, with what it removed.
    let report: @Sendable (PruneSummary) -> Void
}
