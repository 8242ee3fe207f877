import SymphonyConcurrency
import SymphonyEvents

/// A history kept in memory: what a run recorded, for tests and for embedders that query it
/// in-process. Nothing survives the process; delayed events live in an `InMemoryScheduledEntryStore`.
public final class InMemoryHistory: HistoryRecorder {
    /// A rejected input line as recorded.
    public struct Rejected: Sendable, Hashable {
        public let source: String
        public let line: Int?
        public let reason: String
        public let content: [UInt8]
    }

    private struct State {
        var inputs: [Event] = []
        var executions: [ExecutionRecord] = []
        var audits: [AuditRecord] = []
        var rejected: [Rejected] = []
        /// How far each followed file was read.
        var positions: [String: FilePosition] = [:]
        /// Queued side effects by key, with their state, in queue order.
        var outbox: [(entry: OutboxEntry, state: OutboxState?)] = []
        var closed = false
        /// How many inputs the intake mark covers.
        var handledInputs = 0
    }

    private let state = Locked(State())
    public let scheduledEntries: any ScheduledEntryStore

    /// An empty history with its own in-memory scheduled-entry store.
    public init(scheduledEntries: any ScheduledEntryStore = InMemoryScheduledEntryStore()) {
        self.scheduledEntries = scheduledEntries
    }

    /// Input events, in the order recorded.
    public var inputs: [Event] { state.withLock { $0.inputs } }
    /// Action outcomes, in the order recorded.
    public var executions: [ExecutionRecord] { state.withLock { $0.executions } }
    /// Audit records, in the order recorded.
    public var audits: [AuditRecord] { state.withLock { $0.audits } }
    /// Rejected input lines, in the order recorded.
    public var rejected: [Rejected] { state.withLock { $0.rejected } }
    /// True once closed.
    public var isClosed: Bool { state.withLock { $0.closed } }

    public func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?]) {
        state.withLock { $0.inputs.append(contentsOf: events) }
    }

    public func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?], position: FilePosition?) {
        state.withLock { state in
            state.inputs.append(contentsOf: events)
            if let position { state.positions[position.path] = position }
        }
    }

    public func filePosition(for path: String) throws -> FilePosition? {
        state.withLock { $0.positions[path] }
    }

    /// Records executions and audits; a fired entry is then completed in `scheduledEntries`
    /// (an error completing it leaves it pending, as a lost commit would).
    public func record(_ executions: [ExecutionRecord], audits: [AuditRecord], completing fired: (entry: FiredEntry, event: Event)?) {
        state.withLock { state in
            state.executions.append(contentsOf: executions)
            state.audits.append(contentsOf: audits)
        }
        if let fired { try? scheduledEntries.completeFired(fired.entry, event: fired.event) }
    }

    /// Records executions and queues `actions` (see `HistoryRecorder`); memory is as durable as it gets, so `whenDurable` runs at once.
    public func record(
        _ executions: [ExecutionRecord], audits: [AuditRecord], queuing actions: [OutboxEntry], completing fired: (entry: FiredEntry, event: Event)?,
        whenDurable: @escaping @Sendable ([OutboxEntry]) -> Void
    ) {
        let new = state.withLock { state -> [OutboxEntry] in
            state.executions.append(contentsOf: executions)
            state.audits.append(contentsOf: audits)
            // An entry queued before (its event handled again) runs from the outbox already.
            let new = actions.filter { entry in !state.outbox.contains(where: { $0.entry.key == entry.key }) }
            state.outbox.append(contentsOf: new.map { ($0, nil) })
            return new
        }
        if let fired { try? scheduledEntries.completeFired(fired.entry, event: fired.event) }
        if !new.isEmpty { whenDurable(new) }
    }

    public func recordAttempt(_ execution: ExecutionRecord, of entry: OutboxEntry, state outboxState: OutboxState) {
        state.withLock { state in
            state.executions.append(execution)
            var updated = entry
            updated.attempts = entry.attempts + 1
            if case .retry(let at) = outboxState { updated.nextAttempt = at }
            if let index = state.outbox.firstIndex(where: { $0.entry.key == entry.key }) {
                state.outbox[index] = (updated, outboxState)
            } else {
                state.outbox.append((updated, outboxState))
            }
        }
    }

    public func pendingActions() throws -> [OutboxEntry] {
        state.withLock { state in
            state.outbox.filter { if case .done = $0.state { false } else if case .dead = $0.state { false } else { true } }.map(\.entry)
        }
    }

    /// Side effects that gave up, with why.
    public var deadActions: [(entry: OutboxEntry, reason: String)] {
        state.withLock { state in state.outbox.compactMap { if case .dead(let reason) = $0.state { ($0.entry, reason) } else { nil } } }
    }

    public func recordRejected(source: String, line: Int?, reason: String, content: [UInt8]) {
        state.withLock { $0.rejected.append(Rejected(source: source, line: line, reason: reason, content: content)) }
    }

    public func audit(_ record: AuditRecord) {
        state.withLock { $0.audits.append(record) }
    }

    public func handled(through eventID: String) {
        state.withLock { state in
            if let index = state.inputs.lastIndex(where: { $0.id == eventID }) { state.handledInputs = max(state.handledInputs, index + 1) }
        }
    }

    public func unhandledInputs() throws -> [Event] {
        state.withLock { state in
            let handled = Set(state.executions.map(\.eventID)).union(state.outbox.map(\.entry.eventID))
            return state.inputs.dropFirst(state.handledInputs).filter { !handled.contains($0.id) }
        }
    }

    public func markRecordedHandled() throws {
        state.withLock { $0.handledInputs = $0.inputs.count }
    }

    /// The handled input events and the events the recorded actions derived (publish and emit
    /// only: delayed events are handled when they fire), within `horizon` of the newest.
    public func handledEvents(within horizon: Duration, isRelevant: (String) -> Bool) throws -> [Event] {
        let (inputs, derived) = state.withLock { state in
            (Array(state.inputs.prefix(state.handledInputs)), state.executions.filter { $0.kind == .publish }.compactMap(\.derivedEvent))
        }
        let events = inputs + derived
        guard let newest = events.map(\.time).max() else { return [] }
        let oldest = newest.advanced(by: .zero - horizon)
        return events.filter { $0.time >= oldest && isRelevant($0.type) }
    }

    /// Never: memory does not fail to take a row.
    public var hasFailed: Bool { false }
    public var lostRows: Int { 0 }

    public func flush() throws {}

    public func close() throws {
        state.withLock { $0.closed = true }
    }
}
