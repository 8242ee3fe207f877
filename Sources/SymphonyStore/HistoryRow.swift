import SymphonyEvents

/// One thing to remember, queued for the history writer. Payloads arrive already sealed (on the
/// recording thread), so the single writer thread only binds and steps statements.
enum HistoryRow: Sendable {
    /// An input event (or any event first seen here); stored once per id.
    case event(Event, received: Timestamp, sealed: [UInt8]?)
    /// What an action did; its derived event, if any, is stored too.
    case execution(ExecutionRecord, sealedDerived: [UInt8]?)
    /// An input line that was not a valid event.
    case deadLetter(source: String, line: Int?, reason: String, content: [UInt8], received: Timestamp)
    /// A scheduled entry fired: its event is stored and the entry marked done in the same transaction.
    case scheduledFired(ScheduleID, event: Event, firedAt: Timestamp, late: Bool, sealed: [UInt8]?)
    /// A scheduled entry to keep (insert, or move a periodic entry to its next due time).
    case scheduledSave(ScheduledEntry, sealed: [UInt8])
    /// A scheduled entry cancelled.
    case scheduledCancel(ScheduleID)
    /// An audit record; the writer chains it (sequence and hash) and moves the authenticated head.
    case audit(AuditRecord)
}

/// What an action did, as history stores it (SymphonyEngine's `ActionOutcome` converts to it).
public struct ExecutionRecord: Sendable, Hashable {
    public let eventID: String
    public let eventType: String
    public let rule: String
    public let action: String
    public let status: String
    public let error: String?
    public let started: Timestamp
    public let finished: Timestamp
    public let derivedEvent: Event?

    /// A record of one action's outcome.
    public init(
        eventID: String, eventType: String, rule: String, action: String, status: String, error: String?, started: Timestamp,
        finished: Timestamp, derivedEvent: Event?
    ) {
        self.eventID = eventID
        self.eventType = eventType
        self.rule = rule
        self.action = action
        self.status = status
        self.error = error
        self.started = started
        self.finished = finished
        self.derivedEvent = derivedEvent
    }
}
