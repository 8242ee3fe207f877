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

    /// Entries are numbered by position in the input (from 0); `entries[0]` is position `base`.
    private struct State {
        var entries: [Entry] = []
        var base = 0
        var head = 0
        /// The first entry not yet recorded or dropped (both happen in input order).
        var nextToRecord = 0
        /// The position of each entry not yet handled, by event id.
        var waiting: [String: Int] = [:]
        /// Further positions of ids in flight more than once (rare), oldest first.
        var repeated: [String: [Int]] = [:]

        subscript(position: Int) -> Entry {
            get { entries[position - base] }
            set { entries[position - base] = newValue }
        }

        var end: Int { base + entries.count }

        mutating func wait(_ id: String, at position: Int) {
            if waiting[id] == nil {
                waiting[id] = position
            } else {
                repeated[id, default: []].append(position)
            }
        }

        /// The oldest position `id` waits at, no longer waiting; nil when it does not wait.
        mutating func stopWaiting(_ id: String) -> Int? {
            guard let position = waiting[id] else { return nil }
            if var more = repeated[id] {
                waiting[id] = more.removeFirst()
                repeated[id] = more.isEmpty ? nil : more
            } else {
                waiting[id] = nil
            }
            return position
        }

        /// Stops `id` waiting at `position` (an entry dropped before it was handled).
        mutating func stopWaiting(_ id: String, at position: Int) {
            if waiting[id] == position {
                _ = stopWaiting(id)
            } else if var more = repeated[id], let index = more.firstIndex(of: position) {
                more.remove(at: index)
                repeated[id] = more.isEmpty ? nil : more
            }
        }
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
                state.wait(id, at: state.end)
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
            for _ in 0..<count where state.nextToRecord < state.end {
                let position = state.nextToRecord
                state[position].recorded = true
                if dropped {
                    state[position].dropped = true
                    state[position].handled = true
                    state.stopWaiting(state[position].id, at: position)
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
            guard let position = state.stopWaiting(id) else { return nil }
            state[position].handled = true
            return Self.advance(&state)
        }
        if let mark { onAdvance(mark) }
    }

    /// Moves past the leading entries that are recorded and handled; the last of them, if any.
    private static func advance(_ state: inout State) -> String? {
        var mark: String?
        while state.head < state.end, state[state.head].recorded, state[state.head].handled {
            if !state[state.head].dropped { mark = state[state.head].id }
            state.head += 1
        }
        let behind = state.head - state.base
        if behind > 4_096 && behind * 2 > state.entries.count {
            // Forget what is behind the mark (positions stay as they are: only the base moves).
            state.entries.removeFirst(behind)
            state.base = state.head
        }
        return mark
    }
}
