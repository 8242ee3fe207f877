import SymphonyEvents

/// One entry of the audit trail: who did what to what, and how it ended — never secrets or payloads.
public struct AuditRecord: Sendable, Hashable {
    /// The gapless position among audit records (1, 2, 3, …); 0 until the writer assigns it.
    public var sequence: Int64
    /// When it happened.
    public let time: Timestamp
    /// Who did it (a CLI user, a rule's principal, an event's source).
    public let principal: String
    /// What was done, e.g. `rules.load`, `access.denied`, `history.query`.
    public let operation: AuditOperation
    /// What it was done to (a rule set path, an event id, a type).
    public let target: String
    /// `ok`, `failed` or `denied`.
    public let outcome: String
    /// Free text without payload data.
    public let details: String

    /// A record; the writer assigns its sequence number.
    public init(time: Timestamp = .now(), principal: String, operation: AuditOperation, target: String, outcome: String, details: String = "", sequence: Int64 = 0) {
        self.sequence = sequence
        self.time = time
        self.principal = principal
        self.operation = operation
        self.target = target
        self.outcome = outcome
        self.details = details
    }
}
