import SymphonyConcurrency
import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// One `throttle:` rule's memory, one entry per key: when the rule last fired for the key, and
/// how many matching events it suppressed since.
///
/// Times are event times: an event less than `per` from the key's last firing (before or after
/// it) is suppressed. Keys whose quiet period is over are forgotten first when the rule holds
/// `maxKeys` keys; then the least recently seen tenth is evicted (counted).
final class KeyedThrottles: Sendable {
    /// What one event did.
    enum Step: Equatable {
        /// The rule fires; `suppressed` events were held back since its last firing for the key.
        case fired(suppressed: Int)
        /// Suppressed: the key fired at `lastFired`, and this is its `suppressed`th held-back event.
        case suppressed(lastFired: Timestamp, suppressed: Int)
    }

    private struct Entry {
        var lastFired: Int64
        var suppressed: Int
        var lastSeen: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var tick: UInt64 = 0
        var newest = Int64.min
        var evicted = 0
    }

    let gate: Throttle
    /// The gate's `max_keys`, or unbounded when a store outside keeps the state.
    private let maxKeys: Int
    private let perNanoseconds: Int64
    private let state = Locked(State())

    init(_ gate: Throttle, bounded: Bool = true) {
        self.gate = gate
        maxKeys = bounded ? gate.maxKeys : .max
        perNanoseconds = gate.per.nanoseconds
    }

    /// Keys evicted so far to stay within `maxKeys`.
    var evicted: Int { state.withLock { $0.evicted } }

    /// Keys remembered now.
    var keyCount: Int { state.withLock { $0.entries.count } }

    /// Every key's last firing and suppressed count, most recently seen first.
    func snapshot() -> [(key: String, lastFired: Timestamp, suppressed: Int)] {
        state.withLock { state in
            state.entries.sorted { $0.value.lastSeen > $1.value.lastSeen }.map { key, entry in
                (key, Timestamp(nanosecondsSinceEpoch: entry.lastFired), entry.suppressed)
            }
        }
    }

    /// Decides for one matching event of `key` at `time`.
    func add(key: String, time: Timestamp) -> Step {
        let t = time.nanosecondsSinceEpoch
        return state.withLock { state in
            state.tick &+= 1
            state.newest = max(state.newest, t)
            if var entry = state.entries[key] {
                entry.lastSeen = state.tick
                let distance = t >= entry.lastFired ? t.subtractingSaturating(entry.lastFired) : entry.lastFired.subtractingSaturating(t)
                if distance < perNanoseconds {
                    entry.suppressed += 1
                    state.entries[key] = entry
                    return .suppressed(lastFired: Timestamp(nanosecondsSinceEpoch: entry.lastFired), suppressed: entry.suppressed)
                }
                // An event far out of order fires, but never moves the key's last firing back.
                state.entries[key] = Entry(lastFired: max(t, entry.lastFired), suppressed: 0, lastSeen: state.tick)
                return .fired(suppressed: entry.suppressed)
            }
            if state.entries.count >= maxKeys { makeRoom(&state) }
            state.entries[key] = Entry(lastFired: t, suppressed: 0, lastSeen: state.tick)
            return .fired(suppressed: 0)
        }
    }

    /// `key`'s last firing as a record; nil when the key has none.
    func record(of key: String) -> GateRecord? {
        state.withLock { state in
            state.entries[key].map { .throttle(lastFired: $0.lastFired, suppressed: $0.suppressed) }
        }
    }

    /// Makes `record` `key`'s entry (nil, or a record of another gate, forgets the key).
    func install(_ record: GateRecord?, for key: String) {
        state.withLock { state in
            guard case .throttle(let lastFired, let suppressed)? = record else {
                state.entries[key] = nil
                return
            }
            state.tick &+= 1
            state.newest = max(state.newest, lastFired)
            state.entries[key] = Entry(lastFired: lastFired, suppressed: suppressed, lastSeen: state.tick)
        }
    }

    /// Forgets every key.
    func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }

    private func makeRoom(_ state: inout State) {
        let horizon = state.newest.subtractingSaturating(perNanoseconds)
        state.evicted += KeyEviction.makeRoom(
            in: &state.entries, maxKeys: maxKeys, isLive: { entry in entry.lastFired > horizon }, lastSeen: \.lastSeen)
    }
}
