import SymphonyEvents

/// One execution as a store returns it for `symphony history`.
public struct ExecutionRow: Sendable, Hashable {
    public let sequence: Int64
    public let eventID: String
    /// Empty for an input event refused before it was stored.
    public let eventType: String
    public let rule: String
    public let action: String
    public let outcome: String
    public let error: String?
    public let started: Timestamp
    public let durationMicroseconds: Int64
    public let derivedEventID: String?
    /// The rendered message of an `audit:` action.
    public let message: String?
    /// The key it ran under (`ExecutionRecord.key`).
    public var key: String?

    /// A row with these values.
    public init(
        sequence: Int64, eventID: String, eventType: String, rule: String, action: String, outcome: String, error: String?, started: Timestamp,
        durationMicroseconds: Int64, derivedEventID: String?, message: String?, key: String? = nil
    ) {
        self.sequence = sequence
        self.eventID = eventID
        self.eventType = eventType
        self.rule = rule
        self.action = action
        self.outcome = outcome
        self.error = error
        self.started = started
        self.durationMicroseconds = durationMicroseconds
        self.derivedEventID = derivedEventID
        self.message = message
        self.key = key
    }
}
