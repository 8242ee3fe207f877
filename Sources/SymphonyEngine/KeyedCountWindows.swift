import SymphonyConcurrency
import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// One `count:` rule's windows, one per key: the event times (and, with `keep_ids`, the ids) of
/// the matching events that still fall within `within` of the key's newest event.
///
/// Times are event times, so a replayed file counts as the live stream did. An event more than
/// `within` older than its key's newest is late: it cannot share a window with the newest, and
/// is counted and left out. When the rule holds `maxKeys` keys and a new one arrives, windows
/// that can no longer fire are dropped first, then the least recently seen tenth of the keys is
/// evicted (counted).
final class KeyedCountWindows: Sendable {
    /// What adding one event did.
    enum Step: Equatable {
        /// The window reached `atLeast`: it is emptied, and these are its contents.
        case fired(count: Int, first: Timestamp, last: Timestamp, ids: [String])
        /// The window holds `count` events, fewer than `atLeast`.
        case counting(count: Int)
        /// The event is older than the key's newest by more than `within`.
        case late(newest: Timestamp)
    }

    private struct Window {
        var times: [Int64] = []
        var ids: [String] = []
        var lastSeen: UInt64 = 0
    }

    private struct State {
        var windows: [String: Window] = [:]
        var tick: UInt64 = 0
        var newest = Int64.min
        var evicted = 0
    }

    let gate: CountWindow
    /// The most keys held before eviction: the gate's `max_keys`, or unbounded when a store
    /// outside keeps the state (a batch's keys must not evict each other).
    private let maxKeys: Int
    private let withinNanoseconds: Int64
    private let state = Locked(State())

    init(_ gate: CountWindow, bounded: Bool = true) {
        self.gate = gate
        maxKeys = bounded ? gate.maxKeys : .max
        withinNanoseconds = gate.within.nanoseconds
    }

    /// Keys evicted so far to stay within `maxKeys`.
    var evicted: Int { state.withLock { $0.evicted } }

    /// Keys holding a window now.
    var keyCount: Int { state.withLock { $0.windows.count } }

    /// Every key's window: its event count and first and last times, most recently seen first.
    func snapshot() -> [(key: String, count: Int, first: Timestamp, last: Timestamp)] {
        state.withLock { state in
            state.windows.sorted { $0.value.lastSeen > $1.value.lastSeen }.compactMap { key, window in
                guard let first = window.times.first, let last = window.times.last else { return nil }
                return (key, window.times.count, Timestamp(nanosecondsSinceEpoch: first), Timestamp(nanosecondsSinceEpoch: last))
            }
        }
    }

    /// Counts the event `id` at `time` under `key`.
    func add(key: String, time: Timestamp, id: String) -> Step {
        let t = time.nanosecondsSinceEpoch
        return state.withLock { state in
            state.tick &+= 1
            state.newest = max(state.newest, t)
            // One hash lookup for a key already counting; the window is changed in place.
            let index: [String: Window].Index
            if let existing = state.windows.index(forKey: key) {
                index = existing
            } else {
                if state.windows.count >= maxKeys { makeRoom(&state) }
                state.windows[key] = Window()
                index = state.windows.index(forKey: key)!
            }
            let step = add(t, id: id, tick: state.tick, to: &state.windows.values[index])
            if state.windows.values[index].times.isEmpty { state.windows.remove(at: index) }
            return step
        }
    }

    /// Adds one event to `window`; empties it when it fires.
    private func add(_ t: Int64, id: String, tick: UInt64, to window: inout Window) -> Step {
        window.lastSeen = tick
        let newest = max(window.times.last ?? t, t)
        let oldestAllowed = newest.subtractingSaturating(withinNanoseconds)
        if t < oldestAllowed { return .late(newest: Timestamp(nanosecondsSinceEpoch: newest)) }
        // Insert in time order (nearly always at the end).
        var index = window.times.count
        while index > 0 && window.times[index - 1] > t { index -= 1 }
        window.times.insert(t, at: index)
        if gate.keepIDs { window.ids.insert(id, at: index) }
        // Drop what fell out of the window (inclusive bound: exactly `within` apart still counts).
        var drop = 0
        while drop < window.times.count && window.times[drop] < oldestAllowed { drop += 1 }
        if drop > 0 {
            window.times.removeFirst(drop)
            if gate.keepIDs { window.ids.removeFirst(drop) }
        }
        guard window.times.count >= gate.atLeast else { return .counting(count: window.times.count) }
        let fired = Step.fired(
            count: window.times.count, first: Timestamp(nanosecondsSinceEpoch: window.times[0]),
            last: Timestamp(nanosecondsSinceEpoch: window.times[window.times.count - 1]), ids: window.ids)
        window = Window()
        return fired
    }

    /// `key`'s window as a record; nil when the key holds none.
    func record(of key: String) -> GateRecord? {
        state.withLock { state in
            guard let window = state.windows[key], !window.times.isEmpty else { return nil }
            return .window(times: window.times, ids: window.ids)
        }
    }

    /// Makes `record` `key`'s window (nil, or a record of another gate, empties it). Ids are kept
    /// when the rule keeps them and the record has one per time.
    func install(_ record: GateRecord?, for key: String) {
        state.withLock { state in
            guard case .window(let times, let ids)? = record, let newest = times.last else {
                state.windows[key] = nil
                return
            }
            state.tick &+= 1
            state.newest = max(state.newest, newest)
            let kept = gate.keepIDs ? (ids.count == times.count ? ids : times.map { _ in "" }) : []
            state.windows[key] = Window(times: times, ids: kept, lastSeen: state.tick)
        }
    }

    /// Forgets every window.
    func removeAll() {
        state.withLock { $0.windows.removeAll() }
    }

    /// Drops windows that can never fire again (every time older than `within` before the newest
    /// event of any key), then, if still full, the least recently seen tenth of the keys.
    private func makeRoom(_ state: inout State) {
        let horizon = state.newest.subtractingSaturating(withinNanoseconds)
        state.evicted += KeyEviction.makeRoom(
            in: &state.windows, maxKeys: maxKeys, isLive: { entry in (entry.times.last ?? .min) >= horizon }, lastSeen: \.lastSeen)
    }
}

extension Int64 {
    /// `self - other`, stopping at `Int64.min` instead of trapping.
    func subtractingSaturating(_ other: Int64) -> Int64 {
        let (result, overflow) = subtractingReportingOverflow(other)
        return overflow ? .min : result
    }
}
