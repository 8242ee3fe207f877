/// What an audit record says was done, stored by its name in `audit.operation`.
///
/// A struct over its name rather than a closed enum: records written by older versions (such as
/// the per-action `action.publish` of schema 5 and before) read back as operations too.
public struct AuditOperation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The stored name, e.g. `rules.load`.
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// A key file opened the history (`symphony run`).
    public static let keyUse = AuditOperation(rawValue: "key.use")
    /// A rule set was loaded for a run.
    public static let rulesLoad = AuditOperation(rawValue: "rules.load")
    /// Access control refused an input event, an action or a command.
    public static let accessDenied = AuditOperation(rawValue: "access.denied")
    /// `symphony history` read the history.
    public static let historyQuery = AuditOperation(rawValue: "history.query")
    /// `symphony audit list` read the audit records.
    public static let auditRead = AuditOperation(rawValue: "audit.read")
    /// `symphony audit verify` checked the history chain.
    public static let auditVerify = AuditOperation(rawValue: "audit.verify")
    /// `symphony intents` analyzed text.
    public static let intentsAnalyze = AuditOperation(rawValue: "intents.analyze")
    /// `symphony seal` wrote a sealed rule bundle.
    public static let rulesSeal = AuditOperation(rawValue: "rules.seal")
    /// `symphony retry` queued dead side effects again.
    public static let actionsRetry = AuditOperation(rawValue: "actions.retry")
    /// A migration changed stored data (schema 5 re-sealed event payloads).
    public static let historyMigrate = AuditOperation(rawValue: "history.migrate")
    /// A prune removed the oldest part of the history (`symphony history prune`, `run --retain`).
    public static let historyPrune = AuditOperation(rawValue: "history.prune")
    /// A cluster node dropped audit records: more waited to be written than it holds.
    public static let auditDropped = AuditOperation(rawValue: "audit.dropped")
}
