import SymphonyEvents

/// A scheduled entry as a store returns it for `symphony history --status pending`.
public struct ScheduledRow: Sendable, Hashable {
    public let id: String
    public let due: Timestamp
    public let eventID: String
    public let eventType: String
    public let originRule: String?
    /// `pending`, `done` or `cancelled`.
    public let state: String
    public let late: Bool
    /// The key of a keyed delay.
    public var key: String?

    /// A row with these values.
    public init(
        id: String, due: Timestamp, eventID: String, eventType: String, originRule: String?, state: String, late: Bool, key: String? = nil
    ) {
        self.id = id
        self.due = due
        self.eventID = eventID
        self.eventType = eventType
        self.originRule = originRule
        self.state = state
        self.late = late
        self.key = key
    }
}
