import SymphonyEvents

/// Where a run records what happened: input events, action outcomes, rejected lines and audit
/// records, and where its delayed events are kept.
///
/// The SQLite history (`HistoryStore`) and `InMemoryHistory` implement it; the run pipeline knows
/// only this protocol. Recording never blocks on the disk for long: an implementation may buffer,
/// but `flush()` returns only once everything recorded before it is durable, and `close()` once
/// everything is.
public protocol HistoryRecorder: AuditRecording {
    /// Where the scheduler keeps pending delayed events, so they outlive the process when the history does.
    var scheduledEntries: any ScheduledEntryStore { get }

    /// Records input events received at `received`, with the envelopes the queue sealed them in
    /// (`sealed[i]` is `events[i]`'s, or nil) so an implementation that stores envelopes need not seal again.
    func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?])

    /// Records what the actions run for one event did, and the audit records they call for
    /// (denials). When that event was published by a scheduled entry, `fired` is that entry: it is
    /// completed (`ScheduledEntryStore.completeFired(_:event:)`) together with these records — in
    /// the same commit for a durable history — so it never fires again once they are recorded, and
    /// fires again after a restart if they were not. `executions` may be empty (no rule acted on it).
    func record(_ executions: [ExecutionRecord], audits: [AuditRecord], completing fired: (entry: FiredEntry, event: Event)?)

    /// Records input events (as `recordInputs(_:received:sealed:)`) read from a followed file up
    /// to `position`, in the same commit as the position: a restart reads on from it, and reads
    /// none of these lines again.
    func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?], position: FilePosition?)

    /// Where an earlier run stopped reading the followed file `path`; nil when none did.
    func filePosition(for path: String) throws -> FilePosition?

    /// Records the executions for one event (as `record(_:audits:completing:)`) together with the
    /// side effects its rules queued — the outbox — in the same commit for a durable history; then
    /// calls `whenDurable` with those entries (on whatever thread made them durable), so nothing
    /// runs before it is recorded, and whatever was recorded runs, after a crash too.
    func record(
        _ executions: [ExecutionRecord], audits: [AuditRecord], queuing actions: [OutboxEntry], completing fired: (entry: FiredEntry, event: Event)?,
        whenDurable: @escaping @Sendable ([OutboxEntry]) -> Void)

    /// Records one try of a queued side effect: its execution record and the entry's new state,
    /// in one commit (`.done` and `.dead` take it off the pending list).
    func recordAttempt(_ execution: ExecutionRecord, of entry: OutboxEntry, state: OutboxState)

    /// Side effects queued by earlier runs and not finished (pending, or awaiting a retry), in queue order.
    func pendingActions() throws -> [OutboxEntry]

    /// The first `limit` of `pendingActions()`.
    func pendingActions(limit: Int) throws -> [OutboxEntry]

    /// Records an input line that was not a valid event; `content` is the line's bytes.
    func recordRejected(source: String, line: Int?, reason: String, content: [UInt8])

    /// Every input event recorded up to `eventID` (in recording order) is handled, its outcomes
    /// recorded: the next commit carries this intake mark.
    func handled(through eventID: String)

    /// Input events an earlier run recorded but did not get to handle (it was killed), in
    /// recording order: past the last intake mark, with no outcome recorded.
    func unhandledInputs() throws -> [Event]

    /// Marks every input event recorded so far as handled (once the unhandled ones were).
    func markRecordedHandled() throws

    /// Events earlier runs recorded and handled (input and derived; not the unhandled inputs, nor
    /// delayed events still pending), whose event time is at most `horizon` before the newest
    /// recorded event time, in recording order. Only events whose type `isRelevant` accepts are
    /// opened and returned. Rules with memory rebuild their state from these at start.
    func handledEvents(within horizon: Duration, isRelevant: (String) -> Bool) throws -> [Event]

    /// True once a write failed for good: rows were lost, and whoever records should stop taking input.
    var hasFailed: Bool { get }

    /// Rows that could not be written (lost), so far.
    var lostRows: Int { get }

    /// Waits until everything recorded so far is durable; throws the first write failure.
    func flush() throws

    /// Makes everything durable and stops recording; throws the first write failure.
    func close() throws
}

extension HistoryRecorder {
    /// A recorder that keeps no positions records the events only.
    public func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?], position: FilePosition?) {
        recordInputs(events, received: received, sealed: sealed)
    }

    /// A recorder that keeps no positions knows none.
    public func filePosition(for path: String) throws -> FilePosition? { nil }

    /// A recorder without an outbox records the executions, waits until they are durable, and hands the actions back.
    public func record(
        _ executions: [ExecutionRecord], audits: [AuditRecord], queuing actions: [OutboxEntry], completing fired: (entry: FiredEntry, event: Event)?,
        whenDurable: @escaping @Sendable ([OutboxEntry]) -> Void
    ) {
        record(executions, audits: audits, completing: fired)
        guard !actions.isEmpty, (try? flush()) != nil else { return }
        whenDurable(actions)
    }

    /// A recorder without an outbox records the try's execution only.
    public func recordAttempt(_ execution: ExecutionRecord, of entry: OutboxEntry, state: OutboxState) {
        record([execution], audits: [], completing: nil)
    }

    /// A recorder without an outbox has nothing pending.
    public func pendingActions() throws -> [OutboxEntry] { [] }

    /// The first `limit` pending actions, by default taken from all of them.
    public func pendingActions(limit: Int) throws -> [OutboxEntry] { Array(try pendingActions().prefix(max(0, limit))) }

    /// Records what the actions run for one event did, and the audit records they call for (denials).
    public func record(_ executions: [ExecutionRecord], audits: [AuditRecord]) {
        record(executions, audits: audits, completing: nil)
    }
}
