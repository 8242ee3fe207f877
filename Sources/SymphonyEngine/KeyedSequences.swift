import SymphonyConcurrency
import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// One `after:` rule's memory: per key, the earlier events (time and id) not yet paired and
/// still within `within` of the newest event seen.
final class KeyedSequences: Sendable {
    /// An earlier event waiting for its pair.
    struct Earlier: Equatable {
        let time: Timestamp
        let id: String
    }

    private struct Entry {
        var earlier: [Earlier] = []
        var lastSeen: UInt64 = 0
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var tick: UInt64 = 0
        var newest = Int64.min
        var evicted = 0
    }

    let gate: SequenceGate
    /// The rule the gate belongs to.
    let rule: String
    /// The gate's `max_keys`, or unbounded when a store outside keeps the state.
    private let maxKeys: Int
    private let withinNanoseconds: Int64
    private let state = Locked(State())

    init(_ gate: SequenceGate, rule: String, bounded: Bool = true) {
        self.gate = gate
        self.rule = rule
        maxKeys = bounded ? gate.maxKeys : .max
        withinNanoseconds = gate.within.nanoseconds
    }

    /// Keys evicted so far to stay within `maxKeys`.
    var evicted: Int { state.withLock { $0.evicted } }

    /// Keys with earlier events waiting now.
    var keyCount: Int { state.withLock { $0.entries.count } }

    /// Every key's earlier events waiting for a pair, most recently seen first.
    func snapshot() -> [(key: String, earlier: [Earlier])] {
        state.withLock { state in
            state.entries.sorted { $0.value.lastSeen > $1.value.lastSeen }.map { ($0.key, $0.value.earlier) }
        }
    }

    /// Remembers an earlier event of `key`.
    func observe(key: String, time: Timestamp, id: String) {
        let t = time.nanosecondsSinceEpoch
        state.withLock { state in
            state.tick &+= 1
            state.newest = max(state.newest, t)
            var entry = state.entries.removeValue(forKey: key) ?? {
                if state.entries.count >= maxKeys { makeRoom(&state) }
                return Entry()
            }()
            entry.lastSeen = state.tick
            var index = entry.earlier.count
            while index > 0 && entry.earlier[index - 1].time > time { index -= 1 }
            entry.earlier.insert(Earlier(time: time, id: id), at: index)
            let horizon = state.newest.subtractingSaturating(withinNanoseconds)
            entry.earlier.removeAll { $0.time.nanosecondsSinceEpoch < horizon }
            if !entry.earlier.isEmpty { state.entries[key] = entry }
        }
    }

    /// The earliest earlier event of `key` at most `within` before `time` (and not after it), used up; nil when there is none.
    func pair(key: String, time: Timestamp) -> Earlier? {
        let t = time.nanosecondsSinceEpoch
        return state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            let oldest = t.subtractingSaturating(withinNanoseconds)
            guard let index = entry.earlier.firstIndex(where: { $0.time.nanosecondsSinceEpoch >= oldest && $0.time.nanosecondsSinceEpoch <= t })
            else { return nil }
            let earlier = entry.earlier.remove(at: index)
            state.tick &+= 1
            entry.lastSeen = state.tick
            state.entries[key] = entry.earlier.isEmpty ? nil : entry
            return earlier
        }
    }

    /// `key`'s waiting events as a record; nil when none wait.
    func record(of key: String) -> GateRecord? {
        state.withLock { state in
            guard let entry = state.entries[key], !entry.earlier.isEmpty else { return nil }
            return .waiting(times: entry.earlier.map(\.time.nanosecondsSinceEpoch), ids: entry.earlier.map(\.id))
        }
    }

    /// Makes `record` `key`'s waiting events (nil, or a record of another gate, forgets the key).
    func install(_ record: GateRecord?, for key: String) {
        state.withLock { state in
            guard case .waiting(let times, let ids)? = record, let newest = times.last, ids.count == times.count else {
                state.entries[key] = nil
                return
            }
            state.tick &+= 1
            state.newest = max(state.newest, newest)
            let earlier = zip(times, ids).map { Earlier(time: Timestamp(nanosecondsSinceEpoch: $0), id: $1) }
            state.entries[key] = Entry(earlier: earlier, lastSeen: state.tick)
        }
    }

    /// Forgets every key.
    func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }

    private func makeRoom(_ state: inout State) {
        let horizon = state.newest.subtractingSaturating(withinNanoseconds)
        state.evicted += KeyEviction.makeRoom(
            in: &state.entries, maxKeys: maxKeys, isLive: { entry in (entry.earlier.last?.time.nanosecondsSinceEpoch ?? .min) >= horizon }, lastSeen: \.lastSeen)
    }
}
