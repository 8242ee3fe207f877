import SymphonyEvents

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
    case deadLetter(source: String, line: Int64?, reason: String, content: [UInt8]?, receivedNS: Int64)
    /// A scheduled entry fired: its event is stored and the entry marked done in the same transaction.
    case scheduledFired(id: String, event: EventInsert, late: Bool)
    /// A scheduled entry to keep (insert, or move a periodic entry to its next due time).
    case scheduledSave(ScheduledInsert)
    /// A scheduled entry cancelled.
    case scheduledCancel(id: String)
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
    /// The derived event as the queue sealed it, if it did: history stores that envelope rather than sealing again.
    public let sealedDerivedEvent: SealedEvent?

    /// A record of one action's outcome.
    public init(
        eventID: String, eventType: String, rule: String, action: String, status: String, error: String?, started: Timestamp,
        finished: Timestamp, derivedEvent: Event?
    ) {
        self.init(
            eventID: eventID, eventType: eventType, rule: rule, action: action, status: status, error: error, started: started,
            finished: finished, derivedEvent: derivedEvent, sealedDerivedEvent: nil)
    }

    /// A record carrying the derived event as the queue sealed it (package API, see `HistoryStore.recordInput(_:sealed:received:)`).
    package init(
        eventID: String, eventType: String, rule: String, action: String, status: String, error: String?, started: Timestamp,
        finished: Timestamp, derivedEvent: Event?, sealedDerivedEvent: SealedEvent?
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
        self.sealedDerivedEvent = sealedDerivedEvent
    }
}
