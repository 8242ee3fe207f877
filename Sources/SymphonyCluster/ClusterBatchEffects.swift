import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEngine
import SymphonyEvents
import SymphonyPostgres

/// The effects of the actions run on one claimed batch, held until the batch commits: derived
/// events to handle next, delayed events to store, events emitted and audit messages to show.
/// Keyed delays and cancels decide on the pending entries of their keys as the batch read them
/// under the keys' locks, and `saveKeyed()` writes the outcome at commit. One per worker (its
/// engine's effects); `take()` empties what is held, `begin()` what the keys read.
// @unchecked Sendable: `connection`, `known`, `stored`, `made` and `lanes` are used only on the
// thread of the worker that owns these effects (its engine calls them from that thread, inside
// the batch's transaction).
final class ClusterBatchEffects: ActionEffects, @unchecked Sendable {
    struct Held {
        /// Derived events published, not sealed: the worker handles them in the same transaction.
        var published: [Event] = []
        var scheduled: [(entry: ScheduledEntry, sealed: SealedEvent)] = []
        /// A statement of a keyed delay or cancel that failed: the engine records the action as
        /// failed, but the transaction is spoilt, so the worker must roll the batch back.
        var databaseFailure: PostgresError?
        var emitted: [Event] = []
        var audits: [(rule: String, message: String)] = []
    }

    private let sealer: EnvelopeSealer
    private let connection: PostgresConnection
    private let held = Locked(Held())
    /// The pending entry of each delay key this batch locked and read, as the batch's actions
    /// left it (`.some(nil)`: none pending).
    private var known: [String: ScheduledEntry?] = [:]
    /// The id of each read key's entry as stored when read (nil: none).
    private var stored: [String: ScheduleID?] = [:]
    /// The entries the batch made, by key, not stored yet (`saveKeyed`).
    private var made: [String: (entry: ScheduledEntry, sealed: SealedEvent, lane: Int?)] = [:]
    /// The lanes keyed delayed events go to when they fire (set once the worker's engine exists).
    var lanes = ClusterLanes(engine: nil)

    init(sealer: EnvelopeSealer, connection: PostgresConnection) {
        self.sealer = sealer
        self.connection = connection
    }

    /// What the batch's actions asked for so far; the holder starts empty again.
    func take() -> Held {
        held.withLock { held in
            defer { held = Held() }
            return held
        }
    }

    func publish(_ event: Event) throws -> SealedEvent? {
        held.withLock { $0.published.append(event) }
        return nil
    }

    func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent? {
        let sealed = try SealedEvent(sealing: event, with: sealer)
        let entry = ScheduledEntry(id: ScheduleID(rawValue: "s-" + EventIDGenerator.shared.next()), event: event, due: due, sealed: sealed)
        held.withLock { $0.scheduled.append((entry, sealed)) }
        return sealed
    }

    func schedule(_ event: Event, at due: Timestamp, key: String, whenPending: Scheduler.WhenPending) throws -> KeyedDelay {
        let key = PostgresText.storable(key)  // two keys stored alike are one key here too
        return try noticingFailure {
            let pending = try pendingEntry(of: key)
            if let pending, whenPending == .keep { return .kept(pending: pending.event) }
            let sealed = try SealedEvent(sealing: event, with: sealer)
            let entry = ScheduledEntry(
                id: ScheduleID(rawValue: "s-" + EventIDGenerator.shared.next()), event: event, due: due, sealed: sealed, key: key)
            known[key] = .some(entry)
            made[key] = (entry, sealed, lanes.lane(of: event))
            return pending.map { .replaced(sealed: sealed, cancelled: $0.event) } ?? .scheduled(sealed: sealed)
        }
    }

    func cancelDelay(key: String, madeBy rule: String?, sparing parentID: String?) throws -> Event? {
        let key = PostgresText.storable(key)
        return try noticingFailure {
            guard let pending = try pendingEntry(of: key) else { return nil }
            let causation = pending.event.causation
            // (An entry whose envelope cannot be opened has no causation: any cancel of its key removes it.)
            guard rule == nil || causation == nil || causation?.rule == rule, parentID == nil || causation?.parentID != parentID else { return nil }
            known[key] = .some(nil)
            made[key] = nil
            return pending.event
        }
    }

    // MARK: Delay keys

    /// Starts a batch (or its next attempt): no delay key read yet.
    func begin() {
        known.removeAll(keepingCapacity: true)
        stored.removeAll(keepingCapacity: true)
        made.removeAll(keepingCapacity: true)
    }

    /// Reads the pending entries of `keys`, whose locks the batch took ahead, in one statement.
    func preload(delayKeys keys: [String]) throws {
        let keys = Set(keys.map(PostgresText.storable)).filter { known[$0] == nil }
        guard !keys.isEmpty else { return }
        let entries = try PostgresScheduledEntryStore.pending(keys: Array(keys), sealer: sealer, on: connection)
        for key in keys {
            known[key] = .some(entries[key])
            stored[key] = entries[key]?.id
        }
    }

    /// The pending entry of `key`: as the batch read or left it, else read now (taking the key's lock).
    private func pendingEntry(of key: String) throws -> ScheduledEntry? {
        if let known = known[key] { return known }
        let entry = try PostgresScheduledEntryStore.pending(key: key, sealer: sealer, on: connection)
        known[key] = .some(entry)
        stored[key] = entry?.id
        return entry
    }

    /// Writes what the batch's keyed delays and cancels left, in the batch's transaction: removes
    /// the entries they replaced or cancelled, then stores the ones they made (two statements).
    func saveKeyed() throws {
        let removed = stored.compactMap { key, id in id.flatMap { id in known[key]??.id == id ? nil : id } }
        let entries = made.values.sorted { $0.entry.id.rawValue < $1.entry.id.rawValue }
        try PostgresScheduledEntryStore.replaceKeyed(removing: removed, storing: entries.map { ($0.entry, $0.sealed) }, lanes: entries.map(\.lane), on: connection)
    }

    private func noticingFailure<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where error.sqlState != nil {
            // The server refused a statement (an envelope that cannot be opened only fails the action).
            held.withLock { if $0.databaseFailure == nil { $0.databaseFailure = error } }
            throw error
        }
    }

    func audit(rule: String, event: Event, message: String) throws {
        held.withLock { $0.audits.append((rule, message)) }
    }

    func emit(_ event: Event) throws {
        held.withLock { $0.emitted.append(event) }
    }
}
