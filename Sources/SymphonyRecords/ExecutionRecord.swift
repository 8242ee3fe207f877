import SymphonyEvents

/// What an action did, as history stores it (SymphonyEngine's `ActionOutcome` converts to it).
public struct ExecutionRecord: Sendable, Hashable {
    /// The triggering event's id.
    public let eventID: String
    /// The triggering event's type.
    public let eventType: String
    /// The rule that ran the action (`(input)` for an input event refused by the policy).
    public let rule: String
    /// The kind of action.
    public let kind: ActionKind
    /// How it ended.
    public let outcome: ExecutionOutcome
    /// Why it failed or was denied.
    public let error: String?
    /// The rendered message of an `audit:` action.
    public let message: String?
    /// When the action started.
    public let started: Timestamp
    /// When it finished.
    public let finished: Timestamp
    /// The event it derived (publish, delay, emit).
    public let derivedEvent: Event?
    /// The derived event as the queue sealed it, if it did: history stores that envelope rather than sealing again.
    public let sealedDerivedEvent: SealedEvent?
    /// The key the action ran under: its rule's gate key (`count:`, `throttle:`, `after:`), or
    /// the key of a keyed `delay` or a `cancel`; nil otherwise.
    public var key: String?

    /// A record of one action's outcome.
    public init(
        eventID: String, eventType: String, rule: String, kind: ActionKind, outcome: ExecutionOutcome, error: String? = nil,
        message: String? = nil, started: Timestamp, finished: Timestamp, derivedEvent: Event? = nil
    ) {
        self.init(
            eventID: eventID, eventType: eventType, rule: rule, kind: kind, outcome: outcome, error: error, message: message,
            started: started, finished: finished, derivedEvent: derivedEvent, sealedDerivedEvent: nil)
    }

    /// A record carrying the derived event as the queue sealed it (package API, see `HistoryStore.recordInput(_:sealed:received:)`).
    package init(
        eventID: String, eventType: String, rule: String, kind: ActionKind, outcome: ExecutionOutcome, error: String?,
        message: String?, started: Timestamp, finished: Timestamp, derivedEvent: Event?, sealedDerivedEvent: SealedEvent?
    ) {
        self.eventID = eventID
        self.eventType = eventType
        self.rule = rule
        self.kind = kind
        self.outcome = outcome
        self.error = error
        self.message = message
        self.started = started
        self.finished = finished
        self.derivedEvent = derivedEvent
        self.sealedDerivedEvent = sealedDerivedEvent
    }
}
