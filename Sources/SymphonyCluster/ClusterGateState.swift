import SymphonyEngine
import SymphonyEvents
import SymphonyPostgres
import SymphonyRecords
import SymphonyRules

/// One worker's window of the cluster's gate state: what its current batch loaded from
/// `symphony_gates`, under the slots' locks, and what it writes back when the batch commits.
///
/// Per batch: `begin()`, then `preload` the slots the claimed events will use (locked ahead in
/// one statement, in one order), then the engine loads any other slot on its first use
/// (`record(for:)`), then `save` writes the slots that changed. A load that fails is remembered
/// (`failure`); the worker then rolls the batch back.
// @unchecked Sendable: used only on the thread of the worker that owns it (its engine calls
// `record(for:)` from that thread, inside the batch's transaction); never shared with another.
final class ClusterGateState: GateStateSource, @unchecked Sendable {
    private let connection: PostgresConnection
    private let settings: [GateSlot.Kind: [String: String]]
    /// What the batch loaded, as stored (absent: nothing stored).
    private var stored: [GateSlot: GateRecord] = [:]
    /// Every slot the batch loaded (stored or not).
    private var loaded = Set<GateSlot>()
    /// The first load that failed in this batch.
    private(set) var failure: (any Error)?
    /// Rows whose state could not be read (altered in the database), read as empty, since the worker began.
    private(set) var unreadable = 0

    init(ruleSet: RuleSet, connection: PostgresConnection) {
        self.connection = connection
        var settings: [GateSlot.Kind: [String: String]] = [:]
        for rule in ruleSet.rules {
            for kind in GateSlot.Kind.allCases {
                if let text = RuleGates.settings(of: rule, kind: kind) { settings[kind, default: [:]][rule.name] = text }
            }
        }
        self.settings = settings
    }

    /// True when the rule set has a gate, so that batches must lock and load state.
    var isUsed: Bool { !settings.isEmpty }

    private func settings(of slot: GateSlot) -> String? { settings[slot.kind]?[slot.rule] }

    /// Starts a batch (or a batch's next attempt): nothing loaded, no failure.
    func begin() {
        stored.removeAll(keepingCapacity: true)
        loaded.removeAll(keepingCapacity: true)
        failure = nil
    }

    /// Loads `slots`, whose locks the batch took ahead, and puts them into `gates`.
    func preload(_ slots: [GateSlot], into gates: RuleGates) throws {
        let slots = Set(slots.map { GateSlot(rule: $0.rule, kind: $0.kind, key: storedKey($0.key)) }).filter { loaded.insert($0).inserted }
        guard !slots.isEmpty else { return }
        let records = try PostgresGateStore.load(Array(slots), settings: settings(of:), unreadable: { _ in self.unreadable += 1 }, on: connection)
        stored.merge(records) { _, new in new }
        gates.preload(Array(slots), records: records)
    }

    func storedKey(_ key: String) -> String { PostgresText.storable(key) }

    func record(for slot: GateSlot) -> GateRecord? {
        guard failure == nil else { return nil }
        do {
            loaded.insert(slot)
            try PostgresLocks.take([PostgresLocks.id(of: slot)], on: connection)
            let record = try PostgresGateStore.load([slot], settings: settings(of:), unreadable: { _ in self.unreadable += 1 }, on: connection)[slot]
            stored[slot] = record
            return record
        } catch {
            failure = error
            return nil
        }
    }

    /// Writes back the slots whose record changed since they were loaded (`gates.takeShared()`).
    func save(_ records: [(slot: GateSlot, record: GateRecord?)]) throws {
        let changed = records.filter { stored[$0.slot] != $0.record }
        try PostgresGateStore.save(changed, settings: settings(of:), on: connection)
    }
}
