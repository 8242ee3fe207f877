import SymphonyConcurrency

/// Which input events are both recorded and handled, in the order they were read: the history's
/// intake mark. Every event up to the mark is durable with its outcomes once the commit that
/// carries the mark is; a run that starts after a crash handles the recorded events past it.
///
/// An event counts once its row was handed to the history (`recorded`) and its outcomes were
/// (`handled`) — in either order, since a worker may handle an event before the reading thread
/// records it.
final class IntakeTracker: Sendable {
    private struct Entry {
        let id: String
        var recorded = false
        var handled = false
        /// Never published (the queue refused it): not in the history, so never the mark.
        var dropped = false
    }

    private struct State {
        var entries: [Entry] = []
        var head = 0
        /// The first entry not yet recorded or dropped (both happen in input order).
        var nextToRecord = 0
        /// Positions of entries not yet handled, by event id (an id may be in flight twice).
        var waiting: [String: [Int]] = [:]
    }

    private let state = Locked(State())
    private let onAdvance: @Sendable (String) -> Void

    /// `onAdvance` receives the id of the latest event up to which every event is recorded and handled.
    init(onAdvance: @escaping @Sendable (String) -> Void) {
        self.onAdvance = onAdvance
    }

    /// Input events about to be published, in input order.
    func admit(_ ids: [String]) {
        state.withLock { state in
            for id in ids {
                state.waiting[id, default: []].append(state.entries.count)
                state.entries.append(Entry(id: id))
            }
        }
    }

    /// The next `count` events admitted were handed to the history.
    func recorded(_ count: Int) {
        settle(count, dropped: false)
    }

    /// The next `count` events admitted were not published (the queue refused them or closed).
    func dropped(_ count: Int) {
        settle(count, dropped: true)
    }

    private func settle(_ count: Int, dropped: Bool) {
        let mark = state.withLock { state -> String? in
            for _ in 0..<count where state.nextToRecord < state.entries.count {
                state.entries[state.nextToRecord].recorded = true
                if dropped {
                    state.entries[state.nextToRecord].dropped = true
                    state.entries[state.nextToRecord].handled = true
                    let id = state.entries[state.nextToRecord].id
                    if var positions = state.waiting[id], let index = positions.firstIndex(of: state.nextToRecord) {
                        positions.remove(at: index)
                        state.waiting[id] = positions.isEmpty ? nil : positions
                    }
                }
                state.nextToRecord += 1
            }
            return Self.advance(&state)
        }
        if let mark { onAdvance(mark) }
    }

    /// The event `id` was handled and its outcomes handed to the history (no-op for an event not admitted).
    func handled(_ id: String) {
        let mark = state.withLock { state -> String? in
            guard var positions = state.waiting[id], !positions.isEmpty else { return nil }
            let position = positions.removeFirst()
            state.waiting[id] = positions.isEmpty ? nil : positions
            state.entries[position].handled = true
            return Self.advance(&state)
        }
        if let mark { onAdvance(mark) }
    }

    /// Moves past the leading entries that are recorded and handled; the last of them, if any.
    private static func advance(_ state: inout State) -> String? {
        var mark: String?
        while state.head < state.entries.count, state.entries[state.head].recorded, state.entries[state.head].handled {
            if !state.entries[state.head].dropped { mark = state.entries[state.head].id }
            state.head += 1
        }
        if state.head > 4_096 && state.head * 2 > state.entries.count {
            // Forget what is behind the mark; shift the remaining positions.
            let shift = state.head
            state.entries.removeFirst(shift)
            state.head = 0
            state.nextToRecord -= shift
            for key in state.waiting.keys { state.waiting[key] = state.waiting[key]!.map { $0 - shift } }
        }
        return mark
    }
}
