import SymphonyEvents

/// Where actions' side effects go; the engine calls these from worker threads.
public protocol ActionEffects: Sendable {
    /// Queues a derived event now; returns its sealed form when the queue encrypts (history then
    /// stores that envelope instead of sealing the event again), else nil.
    func publish(_ event: Event) throws -> SealedEvent?
    /// Queues a derived event at `due`; returns its sealed form when the queue encrypts (the one
    /// envelope the scheduled entry, the history and the queue keep), else nil.
    func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent?
    /// Appends an audit record.
    func audit(rule: String, event: Event, message: String) throws
    /// Writes a derived event to the output.
    func emit(_ event: Event) throws
}
