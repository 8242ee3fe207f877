import SymphonyEvents
import SymphonyStore

/// Input events waiting to be published together: one queue hand-off (one wake-up of the workers)
/// and one history hand-off per batch instead of per event.
///
/// `flush()` runs when the batch is full and before every read that may block, so an event typed
/// on a terminal or written to a pipe is published at once, not held until more input arrives.
final class InputBatch {
    /// The most events held before publishing.
    static let capacity = 64

    private let system: EventSystem
    private let history: HistoryStore?
    private var events: [Event] = []
    private var received: [Timestamp] = []
    /// True once publishing failed because the queue closed (the run is stopping).
    private(set) var closed = false

    init(system: EventSystem, history: HistoryStore?) {
        self.system = system
        self.history = history
        events.reserveCapacity(Self.capacity)
        received.reserveCapacity(Self.capacity)
    }

    /// Adds an event received now; publishes the batch when it is full. False once the queue has closed.
    func add(_ event: Event) -> Bool {
        events.append(event)
        received.append(.now())
        return events.count < Self.capacity || flush()
    }

    /// Publishes what is held, then records it in history (after publishing, so the queue's envelope
    /// is stored as is instead of sealing each event twice). False once the queue has closed.
    @discardableResult
    func flush() -> Bool {
        guard !events.isEmpty else { return !closed }
        defer {
            events.removeAll(keepingCapacity: true)
            received.removeAll(keepingCapacity: true)
        }
        do {
            let sealed = try system.publish(contentsOf: events)
            history?.recordInputs(Array(events.prefix(sealed.count)), received: received, sealed: sealed)
            if sealed.count < events.count { closed = true }
        } catch {
            closed = true  // the queue closed: a signal arrived and the run is stopping
        }
        return !closed
    }
}
