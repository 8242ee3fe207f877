import SymphonyEvents

/// A side effect in the outbox, as `symphony history --status queued|dead` shows it (its request stays sealed).
public struct OutboxRow: Sendable, Hashable {
    /// The idempotency key, `RULE/EVENT-ID/ACTION-INDEX`.
    public let key: String
    /// The rule that queued it.
    public let rule: String
    /// `exec`, `http` or `file`.
    public let action: String
    /// The event that caused it.
    public let eventID: String
    /// That event's type.
    public let eventType: String
    /// Tries made.
    public let attempts: Int
    /// When it was queued.
    public let queued: Timestamp
    /// When the next try may start (queued ones).
    public let next: Timestamp
    /// Why the last try failed, or why it gave up.
    public let lastError: String?

    /// A row as read from an outbox.
    public init(
        key: String, rule: String, action: String, eventID: String, eventType: String, attempts: Int, queued: Timestamp, next: Timestamp, lastError: String?
    ) {
        self.key = key
        self.rule = rule
        self.action = action
        self.eventID = eventID
        self.eventType = eventType
        self.attempts = attempts
        self.queued = queued
        self.next = next
        self.lastError = lastError
    }
}
