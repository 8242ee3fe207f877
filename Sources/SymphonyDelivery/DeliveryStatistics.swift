/// What the dispatcher did with side effects so far.
public struct DeliveryStatistics: Sendable, Hashable {
    /// Side effects that succeeded, by kind name.
    public var succeeded: [String: Int] = [:]
    /// Tries that failed and were retried later.
    public var retried = 0
    /// Side effects that gave up (dead letters; `symphony retry` runs them again).
    public var deadLettered = 0
    /// Side effects that had to wait for a free pool thread or for their rule's or target's limit.
    public var waited = 0
    /// Side effects given up untried because another process took them over (a cluster's outbox).
    public var relinquished = 0
    /// Side effects still queued or awaiting a retry (left pending in the history when the run ended).
    public var pending = 0

    /// Nothing yet.
    public init() {}
}
