import SymphonyEvents

/// Filters for `symphony history`, whichever store answers them.
public struct HistoryQuery: Sendable {
    /// Only this rule's executions.
    public var rule: String?
    /// Only events whose type matches this pattern.
    public var type: TypePattern?
    /// Only this outcome (`ok`, `failed`, `denied`, `skipped`).
    public var outcome: String?
    /// Only executions that started at or after this time.
    public var since: Timestamp?
    /// Only executions that started before this time.
    public var until: Timestamp?
    /// Only this event's executions.
    public var eventID: String?
    /// Only executions under this key (a gate's key, or a keyed delay's or cancel's).
    public var key: String?
    /// At most this many rows (most recent first).
    public var limit: Int = 50

    /// No filters, 50 rows.
    public init() {}
}
