/// Where operations are audited: a run's history on one machine (`HistoryRecorder`), a cluster
/// node's audit trail in PostgreSQL.
public protocol AuditRecording: AnyObject, Sendable {
    /// Appends an operation's audit record.
    func audit(_ record: AuditRecord)
}
