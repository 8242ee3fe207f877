import SymphonyConcurrency
import SymphonyEvents
import SymphonyRecords
import Synchronization

/// Input events waiting to be published together: one queue hand-off (one wake-up of the workers)
/// and one history hand-off per batch instead of per event.
///
/// `flush()` runs when the batch is full and before every read that may block, so an event typed
/// on a terminal or written to a pipe is published at once, not held until more input arrives;
/// the reading thread flushes once more when the input ends (also when a signal ended it), before
/// the run finishes, so no event that was read is dropped.
final class InputBatch: Sendable {
    /// The most events held before publishing.
    static let capacity = 64

    private struct State {
        var events: [Event] = []
        var origins: [SourceOrigin] = []  // formatted only if an event is refused
        var received: [Timestamp] = []  // when each event was read; kept only for history
        /// How far the followed file these events came from is read, once they are recorded.
        var position: FilePosition?
    }

    private let system: EventSystem
    private let history: (any HistoryRecorder)?
    private let output: any OutputSink
    private let intake: IntakeTracker?
    private let state = Locked(State())
    private let refusedCount = Atomic<Int>(0)
    private let acceptedCount = Atomic<Int>(0)
    private let replacedCount = Atomic<Int>(0)

    /// Events taken (each is published and recorded, or reported as refused).
    var accepted: Int { acceptedCount.load(ordering: .relaxed) }

    /// Events taken whose line had invalid UTF-8 replaced by U+FFFD (`--lines`).
    var acceptedWithReplacedUTF8: Int { replacedCount.load(ordering: .relaxed) }

    /// Events the queue refused for a reason other than closing (each reported to the output sink as rejected).
    var refused: Int { refusedCount.load(ordering: .relaxed) }

    init(system: EventSystem, history: (any HistoryRecorder)?, output: any OutputSink, intake: IntakeTracker?) {
        self.system = system
        self.history = history
        self.output = output
        self.intake = intake
        state.withLock { state in
            state.events.reserveCapacity(Self.capacity)
            state.origins.reserveCapacity(Self.capacity)
            state.received.reserveCapacity(Self.capacity)
        }
    }

    /// Adds an event received now (`origin` names its line; `replacedInvalidUTF8` says its line
    /// had invalid UTF-8 replaced); publishes the batch when it is full.
    func add(_ event: Event, origin: SourceOrigin, replacedInvalidUTF8: Bool = false, position: FilePosition? = nil) {
        state.withLock { state in
            // Lines of another followed file go in a batch of their own: one position per commit.
            if let held = state.position, position?.path != held.path { publish(&state) }
            if let position { state.position = position }
            acceptedCount.add(1, ordering: .relaxed)  // under the lock: counted exactly when taken
            if replacedInvalidUTF8 { replacedCount.add(1, ordering: .relaxed) }
            state.events.append(event)
            state.origins.append(origin)
            if history != nil { state.received.append(.now()) }  // read only to record the events in history
            if state.events.count >= Self.capacity { publish(&state) }
        }
    }

    /// Publishes and records what is held.
    func flush() {
        state.withLock { _ = publish(&$0) }
    }

    /// Publishes what is held, then `events` received now (one request's), as one batch; returns
    /// how many of `events` the queue took. Blocks while the queue is full.
    func publishNow(_ events: [Event], origins: [SourceOrigin]) -> Int {
        state.withLock { state in
            publish(&state)
            acceptedCount.add(events.count, ordering: .relaxed)
            state.events.append(contentsOf: events)
            state.origins.append(contentsOf: origins)
            if history != nil {
                let now = Timestamp.now()
                for _ in 0..<events.count { state.received.append(now) }
            }
            let published = publish(&state)
            return published
        }
    }

    /// Publishes the held events, then records them in history (which seals each event for
    /// itself: the queue holds them in batches). Called with the lock held. Returns how many the queue took.
    @discardableResult
    private func publish(_ state: inout State) -> Int {
        guard !state.events.isEmpty else { return 0 }
        defer {
            state.events.removeAll(keepingCapacity: true)
            state.origins.removeAll(keepingCapacity: true)
            state.received.removeAll(keepingCapacity: true)
            state.position = nil
        }
        intake?.admit(state.events.map(\.id))  // before a worker can handle them
        do {
            let queued = try system.publish(contentsOf: state.events)
            // A position only when every event read up to it was taken: otherwise the lines are read again.
            let position = queued == state.events.count ? state.position : nil
            history?.recordInputs(Array(state.events.prefix(queued)), received: state.received, sealed: [], position: position)
            intake?.recorded(queued)
            intake?.dropped(state.events.count - queued)
            if queued < state.events.count {
                output.problem("symphony: \(state.events.count - queued) events read were not processed: the queue did not take them")
            }
            return queued
        } catch let error as EventsError where error.code == .closed {
            intake?.dropped(state.events.count)
            output.problem("symphony: \(state.events.count) events read were not processed: the queue closed")
            return 0
        } catch {
            // Not expected (input lines are validated when read): publish one by one so one bad event costs only itself.
            var published = 0
            for (index, event) in state.events.enumerated() {
                do {
                    let sealed = try system.publish(event)
                    history?.recordInputs([event], received: [state.received[index]], sealed: [sealed])
                    intake?.recorded(1)
                    published += 1
                } catch {
                    intake?.dropped(1)
                    refusedCount.add(1, ordering: .relaxed)
                    output.problem("\(state.origins[index]): rejected: \(error)")
                }
            }
            return published
        }
    }
}
