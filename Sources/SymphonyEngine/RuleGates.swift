import SymphonyConcurrency
import SymphonyEvents
import SymphonyJSON
import SymphonyRecords
import SymphonyRules
import Synchronization

/// The state of a rule set's `count:` and `throttle:` gates, and the decision for each matching event.
///
/// A rule whose condition holds passes its `after` gate (if any), its `count` gate (if any), then
/// its `throttle` gate (if any); only then do its actions run. State is kept per rule and per key in memory, on event
/// time; one instance serves every worker (each rule's state has its own lock).
///
/// With a `GateStateSource` (a cluster), the state lives outside: each slot (rule, gate, key)
/// is loaded on its first use, changed in memory, and handed back by `takeShared()`, which
/// forgets it all; `preload(_:records:)` puts in slots loaded ahead.
public final class RuleGates: Sendable {
    /// What the gates decided for one matching event.
    public enum Verdict: Sendable {
        /// The actions run; `fields` are what `{{ window.… }}` and `{{ throttle.… }}` render.
        case fire(fields: [String: [String: JSONValue]])
        /// The actions do not run, and why (e.g. "3 of 5 events for key 203.0.113.9 within 10m; needs 2 more"), for `key`.
        case hold(reason: String, kind: HoldKind, key: String)
    }

    /// Why a matching event did not fire its rule.
    public enum HoldKind: Sendable, Equatable {
        /// Its key's window holds fewer than `at_least` events.
        case counting
        /// Too old for its key's window.
        case late
        /// The rule fired for the key within the throttle period.
        case suppressed
        /// No earlier event with the same key came within the `after:` window.
        case unpaired
    }

    private let counts: [String: KeyedCountWindows]
    private let throttles: [String: KeyedThrottles]
    private let sequences: [String: KeyedSequences]
    /// The `after:` gates that remember events of a type.
    private let observers: TypeIndexedValues<KeyedSequences>
    private let heldUnpaired = Atomic<Int>(0)
    private let heldCounting = Atomic<Int>(0)
    private let heldLate = Atomic<Int>(0)
    private let heldSuppressed = Atomic<Int>(0)
    private let source: (any GateStateSource)?
    /// The slots loaded from `source` since the last `takeShared()`.
    private let loaded = Locked(Set<GateSlot>())

    /// Empty state for the gates of `ruleSet`'s rules; with `previous`, the state of each gate
    /// a rule of the same name had with the same settings is kept (a reloaded rule set goes on
    /// counting where the old one was), and so are the counts of held events. With `source`,
    /// each key's state is loaded from it on first use instead (and nothing is carried over).
    public init(ruleSet: RuleSet, carryingOver previous: RuleGates? = nil, source: (any GateStateSource)? = nil) {
        self.source = source
        let previous = source == nil ? previous : nil
        var counts: [String: KeyedCountWindows] = [:]
        var throttles: [String: KeyedThrottles] = [:]
        var sequences: [String: KeyedSequences] = [:]
        var observers: [(value: KeyedSequences, patterns: [TypePattern])] = []
        for rule in ruleSet.rules {
            if let count = rule.count {
                counts[rule.name] = previous?.counts[rule.name].flatMap { $0.gate == count ? $0 : nil } ?? KeyedCountWindows(count, bounded: source == nil)
            }
            if let throttle = rule.throttle {
                throttles[rule.name] = previous?.throttles[rule.name].flatMap { $0.gate == throttle ? $0 : nil } ?? KeyedThrottles(throttle, bounded: source == nil)
            }
            if let after = rule.after {
                let memory = previous?.sequences[rule.name].flatMap { $0.gate == after ? $0 : nil } ?? KeyedSequences(after, rule: rule.name, bounded: source == nil)
                sequences[rule.name] = memory
                observers.append((memory, after.on))
            }
        }
        self.counts = counts
        self.throttles = throttles
        self.sequences = sequences
        self.observers = TypeIndexedValues(observers)
        if let previous {
            heldUnpaired.store(previous.heldUnpaired.load(ordering: .relaxed), ordering: .relaxed)
            heldCounting.store(previous.heldCounting.load(ordering: .relaxed), ordering: .relaxed)
            heldLate.store(previous.heldLate.load(ordering: .relaxed), ordering: .relaxed)
            heldSuppressed.store(previous.heldSuppressed.load(ordering: .relaxed), ordering: .relaxed)
        }
    }

    /// True when an `after:` gate remembers events of `type`.
    public func observes(_ type: String) -> Bool { !observers.values(for: type).isEmpty }

    /// Remembers `event` for every `after:` gate whose `on` matches its type (call it after the
    /// event's own rules ran, so an event never pairs with itself).
    public func observe(_ event: Event) {
        let memories = observers.values(for: event.type)
        guard !memories.isEmpty else { return }
        let context = TemplateContext(event: event, rule: "", captures: Captures(), intent: nil)
        for memory in memories {
            let key = stored(memory.gate.key.render(context))
            prepare(GateSlot(rule: memory.rule, kind: .after, key: key))
            memory.observe(key: key, time: event.time, id: event.id)
        }
    }

    /// The slots `observe(event)` would use.
    func observedSlots(of event: Event) -> [GateSlot] {
        let memories = observers.values(for: event.type)
        guard !memories.isEmpty else { return [] }
        let context = TemplateContext(event: event, rule: "", captures: Captures(), intent: nil)
        return memories.map { GateSlot(rule: $0.rule, kind: .after, key: stored($0.gate.key.render(context))) }
    }

    /// Passes one event that matched `rule` through the rule's gates (a rule without gates fires).
    /// `counting: false` updates the state without counting holds (restoring state from history);
    /// `explain: false` leaves the reason of a held event empty (a run shows it nowhere) except
    /// for a suppressed one, whose reason is recorded.
    public func admit(_ rule: Rule, context: TemplateContext, counting: Bool = true, explain: Bool = true) -> Verdict {
        var fields: [String: [String: JSONValue]] = [:]
        let time = context.event.time
        if let memory = sequences[rule.name] {
            let gate = memory.gate
            let key = stored(gate.key.render(context))
            prepare(GateSlot(rule: rule.name, kind: .after, key: key))
            guard let earlier = memory.pair(key: key, time: time) else {
                if counting { heldUnpaired.add(1, ordering: .relaxed) }
                return .hold(
                    reason: explain
                        ? "after: no \(gate.on.map(\.text).joined(separator: " or ")) event for key \(Self.quoted(key)) "
                            + "within \(DurationParser.text(gate.within)) before" : "", kind: .unpaired, key: key)
            }
            fields["after"] = ["key": .string(key), "id": .string(earlier.id), "time": .string(earlier.time.description)]
        }
        if let windows = counts[rule.name] {
            let gate = windows.gate
            let key = stored(gate.key.render(context))
            prepare(GateSlot(rule: rule.name, kind: .count, key: key))
            switch windows.add(key: key, time: time, id: context.event.id) {
            case .counting(let count):
                if counting { heldCounting.add(1, ordering: .relaxed) }
                let missing = gate.atLeast - count
                return .hold(
                    reason: explain
                        ? "count: \(count) of \(gate.atLeast) events for key \(Self.quoted(key)) within \(DurationParser.text(gate.within)); "
                            + "needs \(missing) more" : "", kind: .counting, key: key)
            case .late(let newest):
                if counting { heldLate.add(1, ordering: .relaxed) }
                return .hold(
                    reason: explain
                        ? "count: late for key \(Self.quoted(key)): its time \(time) is more than \(DurationParser.text(gate.within)) "
                            + "before the key's newest event (\(newest))" : "", kind: .late, key: key)
            case .fired(let count, let first, let last, let ids):
                var window: [String: JSONValue] = [
                    "key": .string(key), "count": .int(Int64(count)), "first": .string(first.description), "last": .string(last.description),
                ]
                if gate.keepIDs { window["ids"] = .array(ids.map(JSONValue.string)) }
                fields["window"] = window
            }
        }
        if let limiter = throttles[rule.name] {
            let gate = limiter.gate
            var gateContext = context
            gateContext.gates = fields
            let key = stored(gate.key.render(gateContext))
            prepare(GateSlot(rule: rule.name, kind: .throttle, key: key))
            switch limiter.add(key: key, time: time) {
            case .suppressed(let lastFired, let suppressed):
                if counting { heldSuppressed.add(1, ordering: .relaxed) }
                return .hold(
                    reason: "throttle: fired for key \(Self.quoted(key)) at \(lastFired), at most once per \(DurationParser.text(gate.per)) "
                        + "(\(suppressed) suppressed since)", kind: .suppressed, key: key)
            case .fired(let suppressed):
                fields["throttle"] = ["key": .string(key), "suppressed": .int(Int64(suppressed))]
            }
        }
        return .fire(fields: fields)
    }

    /// Counts so far: matching events held by a window, late, suppressed, and keys evicted.
    public var statistics: GateStatistics {
        GateStatistics(
            counting: heldCounting.load(ordering: .relaxed), late: heldLate.load(ordering: .relaxed),
            suppressed: heldSuppressed.load(ordering: .relaxed), unpaired: heldUnpaired.load(ordering: .relaxed),
            evictedKeys: counts.values.reduce(0) { $0 + $1.evicted } + throttles.values.reduce(0) { $0 + $1.evicted }
                + sequences.values.reduce(0) { $0 + $1.evicted })
    }

    /// What `rule`'s gates hold now, one entry per gate and key, most recently seen keys first.
    public func state(of rule: String) -> [GateKeyState] {
        var states: [GateKeyState] = []
        for (key, earlier) in sequences[rule]?.snapshot() ?? [] {
            states.append(
                GateKeyState(
                    gate: "after", key: key, events: earlier.count, first: earlier.first?.time, last: earlier.last?.time,
                    detail: "waiting to pair: " + earlier.map(\.id).joined(separator: ", ")))
        }
        if let windows = counts[rule] {
            for (key, count, first, last) in windows.snapshot() {
                let missing = windows.gate.atLeast - count
                states.append(
                    GateKeyState(
                        gate: "count", key: key, events: count, first: first, last: last,
                        detail: "\(count) of \(windows.gate.atLeast) within \(DurationParser.text(windows.gate.within)); needs \(missing) more"))
            }
        }
        if let limiter = throttles[rule] {
            for (key, lastFired, suppressed) in limiter.snapshot() {
                states.append(
                    GateKeyState(
                        gate: "throttle", key: key, events: suppressed, first: lastFired, last: nil,
                        detail: "fired at \(lastFired); quiet until \(lastFired.advanced(by: limiter.gate.per)); \(suppressed) suppressed since"))
            }
        }
        return states
    }

    /// The keys `rule` holds state for now (0 for a rule without gates).
    public func keyCount(of rule: String) -> Int {
        (counts[rule]?.keyCount ?? 0) + (throttles[rule]?.keyCount ?? 0) + (sequences[rule]?.keyCount ?? 0)
    }

    // MARK: State kept outside (a cluster)

    /// `key` as the source stores it (itself without a source).
    private func stored(_ key: String) -> String { source?.storedKey(key) ?? key }

    /// Loads `slot` from the source on its first use since the last `takeShared()`.
    private func prepare(_ slot: GateSlot) {
        guard let source, loaded.withLock({ $0.insert(slot).inserted }) else { return }
        install(source.record(for: slot), for: slot)
    }

    private func install(_ record: GateRecord?, for slot: GateSlot) {
        switch slot.kind {
        case .count: counts[slot.rule]?.install(record, for: slot.key)
        case .throttle: throttles[slot.rule]?.install(record, for: slot.key)
        case .after: sequences[slot.rule]?.install(record, for: slot.key)
        }
    }

    /// Puts in `slots`, loaded ahead of their use (a batch locks the keys it will use in one go,
    /// in one order): `records` holds those stored, the others start empty. Slots already loaded
    /// are left as they are.
    public func preload(_ slots: [GateSlot], records: [GateSlot: GateRecord]) {
        let fresh = loaded.withLock { loaded in slots.filter { loaded.insert($0).inserted } }
        for slot in fresh { install(records[slot], for: slot) }
    }

    /// The state of every slot loaded since the last call, nil where the slot is now empty; then
    /// forgets it all, so that the next use of any key loads it again.
    public func takeShared() -> [(slot: GateSlot, record: GateRecord?)] {
        let slots = loaded.withLock { loaded in
            defer { loaded.removeAll(keepingCapacity: true) }
            return Array(loaded)
        }
        let records = slots.map { slot -> (slot: GateSlot, record: GateRecord?) in
            switch slot.kind {
            case .count: (slot, counts[slot.rule]?.record(of: slot.key))
            case .throttle: (slot, throttles[slot.rule]?.record(of: slot.key))
            case .after: (slot, sequences[slot.rule]?.record(of: slot.key))
            }
        }
        for windows in counts.values { windows.removeAll() }
        for limiter in throttles.values { limiter.removeAll() }
        for memory in sequences.values { memory.removeAll() }
        return records
    }

    /// The settings of `rule`'s `kind` gate, as text: a store keeps it beside each key's state,
    /// and a key stored under other settings (the rule changed) starts empty. Nil when the rule
    /// has no such gate.
    public static func settings(of rule: Rule, kind: GateSlot.Kind) -> String? {
        switch kind {
        case .count:
            rule.count.map { "count \($0.atLeast) within \($0.within.nanoseconds)ns key \($0.key.source)\($0.keepIDs ? " ids" : "")" }
        case .throttle:
            rule.throttle.map { "throttle per \($0.per.nanoseconds)ns key \($0.key.source)" }
        case .after:
            rule.after.map { "after \($0.on.map(\.text).joined(separator: ",")) within \($0.within.nanoseconds)ns key \($0.key.source)" }
        }
    }

    private static func quoted(_ key: String) -> String { key.isEmpty ? "''" : key }
}
