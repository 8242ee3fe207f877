import SymphonyEvents

/// An event as stored, with its payload when the key could open it.
public struct StoredEvent: Sendable, Hashable {
    public let id: String
    public let type: String
    /// Its priority; nil where it is not kept (a cluster's records).
    public let priority: Int?
    public let source: String?
    /// When it was received (on a cluster: when it was handled).
    public let received: Timestamp
    public let parentID: String?
    public let rule: String?
    public let hop: Int
    /// The event with its payload, when a key was given and opened the envelope.
    public let event: Event?

    /// An event as read from a store.
    public init(
        id: String, type: String, priority: Int?, source: String?, received: Timestamp, parentID: String?, rule: String?, hop: Int, event: Event?
    ) {
        self.id = id
        self.type = type
        self.priority = priority
        self.source = source
        self.received = received
        self.parentID = parentID
        self.rule = rule
        self.hop = hop
        self.event = event
    }
}
