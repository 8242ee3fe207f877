import Synchronization

/// A snapshot of what a dispatcher has done.
public struct EventCounters: Sendable, Hashable {
    /// Events accepted into the queue.
    public var published: Int
    /// Events taken off the queue whose every matching handler returned normally (including events no handler matched).
    public var delivered: Int
    /// Events with at least one failing handler, or whose envelope did not open; each went to the dead-letter sink.
    public var failed: Int
    /// Delivered events that no handler matched.
    public var unmatched: Int
    /// Events waiting in the queue right now.
    public var queueDepth: Int
}

/// The live counters behind `EventCounters`.
final class AtomicEventCounters: Sendable {
    let published = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let unmatched = Atomic<Int>(0)

    func snapshot(queueDepth: Int) -> EventCounters {
        EventCounters(
            published: published.load(ordering: .relaxed), delivered: delivered.load(ordering: .relaxed),
            failed: failed.load(ordering: .relaxed), unmatched: unmatched.load(ordering: .relaxed), queueDepth: queueDepth)
    }
}
