import SymphonyEvents

/// Where actions' side effects go; the engine calls these from worker threads.
public protocol ActionEffects: Sendable {
    /// Queues a derived event now; returns its sealed form when the queue encrypts (history then
    /// stores that envelope instead of sealing the event again), else nil.
    func publish(_ event: Event) throws -> SealedEvent?
    /// Queues a derived event at `due`; returns its sealed form when the queue encrypts (the one
    /// envelope the scheduled entry, the history and the queue keep), else nil.
    func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent?
    /// Queues a derived event at `due` under `key` (at most one pending per key; `whenPending` says
    /// which stays).
    func schedule(_ event: Event, at due: Timestamp, key: String, whenPending: Scheduler.WhenPending) throws -> KeyedDelay
    /// Removes the pending delayed event of `key` (only one made by `rule`, when given, and not
    /// one derived from the event `sparing`); returns it, or nil.
    func cancelDelay(key: String, madeBy rule: String?, sparing parentID: String?) throws -> Event?
    /// Appends an audit record.
    func audit(rule: String, event: Event, message: String) throws
    /// Writes a derived event to the output.
    func emit(_ event: Event) throws
}

extension ActionEffects {
    /// Effects without a scheduler of their own refuse keyed delays: the action fails.
    public func schedule(_ event: Event, at due: Timestamp, key: String, whenPending: Scheduler.WhenPending) throws -> KeyedDelay {
        throw ActionError("keyed delays need a scheduler; these action effects have none")
    }

    /// Effects without a scheduler of their own refuse cancels: the action fails.
    public func cancelDelay(key: String, madeBy rule: String?, sparing parentID: String?) throws -> Event? {
        throw ActionError("cancelling a keyed delay needs a scheduler; these action effects have none")
    }
}
