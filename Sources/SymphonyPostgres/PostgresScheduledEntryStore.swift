import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents

/// Pending delayed and periodic events in PostgreSQL, shared by every node.
///
/// Entries are stored as the queue's envelopes (`SealedEvent`). Firing is cluster-wide and
/// exactly once: `fireDue(now:limit:)` takes due entries with `FOR UPDATE SKIP LOCKED` and, in
/// the same transaction, puts their events into the shared queue and removes the one-shot entries
/// (a periodic entry moves to its next due time). Two nodes firing at once take disjoint entries;
/// a node that dies mid-fire rolls back, and the entries stay for the next one. So the
/// `ScheduledEntryStore` duty of completing a fired entry after its handling is the queue's here:
/// `completeFired` has nothing left to do.
public final class PostgresScheduledEntryStore: ScheduledEntryStore {
    private let connection: Locked<PostgresConnection>
    private let sealer: EnvelopeSealer
    private let idGenerator: EventIDGenerator

    /// A store on its own connection to `url`; the tables must exist (`PostgresSchema.migrate`).
    public init(url: String, sealer: EnvelopeSealer, idGenerator: EventIDGenerator = .shared) throws {
        connection = Locked(try PostgresConnection(url: url))
        self.sealer = sealer
        self.idGenerator = idGenerator
    }

    public func loadPending() throws -> [ScheduledEntry] {
        let rows = try connection.withLock { connection in
            try connection.execute(
                "SELECT id, due_ns, interval_ns, event_id, event_type, priority, envelope, key FROM symphony_scheduled ORDER BY stored")
        }
        return try (0..<rows.count).map { try entry(rows, $0) }
    }

    public func save(_ entry: ScheduledEntry) throws {
        let sealed = try entry.sealedEvent ?? SealedEvent(sealing: entry.event, with: sealer)
        try connection.withLock { connection in
            try Self.save(entry, sealed: sealed, on: connection)
        }
    }

    /// Stores `entry` (its event sealed as `sealed`) on `connection`, in the caller's transaction
    /// (or one of its own): a later entry with the same key replaces the pending one.
    public static func save(_ entry: ScheduledEntry, sealed: SealedEvent, on connection: PostgresConnection) throws {
        guard connection.isInTransaction else {
            try connection.transaction { try save(entry, sealed: sealed, on: $0) }
            return
        }
        let key = entry.key.map(PostgresText.storable)
        if let key {
            // Two nodes saving one key at once take turns: the later replaces the earlier.
            try PostgresLocks.take([PostgresLocks.id(ofDelayKey: key)], on: connection)
            try connection.execute("DELETE FROM symphony_scheduled WHERE key = $1 AND id <> $2", [.text(key), .text(entry.id.rawValue)])
        }
        try connection.execute(
            """
            INSERT INTO symphony_scheduled (id, due_ns, interval_ns, event_id, event_type, priority, envelope, key, rule)
            VALUES ($1, $2::bigint, $3::bigint, $4, $5, $6::smallint, $7::bytea, $8, $9)
            ON CONFLICT (id) DO UPDATE SET due_ns = EXCLUDED.due_ns, interval_ns = EXCLUDED.interval_ns, event_id = EXCLUDED.event_id,
                event_type = EXCLUDED.event_type, priority = EXCLUDED.priority, envelope = EXCLUDED.envelope, key = EXCLUDED.key, rule = EXCLUDED.rule
            """,
            [
                .text(entry.id.rawValue), .int(entry.due.nanosecondsSinceEpoch), entry.interval.map { .int($0.nanoseconds) } ?? .null,
                .text(sealed.id), .text(sealed.type), .int(Int64(sealed.priority)), .bytes(sealed.envelope), key.map(PostgresParameter.text) ?? .null,
                entry.event.causation.map { .text($0.rule) } ?? .null,
            ])
    }

    /// The pending entry of `key`, locked for the caller's transaction with the key (so no other
    /// node schedules, cancels or fires it before that transaction ends); nil when none is pending.
    /// An entry being fired meanwhile is waited for, and then is no longer pending.
    /// An entry whose envelope cannot be opened (altered, or sealed under a key not given) comes
    /// with an event that has only its id, type and priority.
    public static func pending(key: String, sealer: EnvelopeSealer, on connection: PostgresConnection) throws -> ScheduledEntry? {
        try pending(keys: [key], sealer: sealer, on: connection, locking: true)[key]
    }

    /// The pending entries of `keys`, whose locks (`PostgresLocks`) the caller holds (or, with
    /// `locking`, takes now), locked for its transaction, by key as given; keys with none pending
    /// are absent. An entry whose envelope cannot be opened comes with an event that has only its
    /// id, type and priority: it can still be replaced or cancelled.
    public static func pending(
        keys: [String], sealer: EnvelopeSealer, on connection: PostgresConnection, locking: Bool = false
    ) throws -> [String: ScheduledEntry] {
        guard !keys.isEmpty else { return [:] }
        var named: [String: [String]] = [:]
        for key in keys { named[PostgresText.storable(key), default: []].append(key) }
        if locking { try PostgresLocks.take(keys.map(PostgresLocks.id(ofDelayKey:)), on: connection) }
        let rows = try connection.execute(
            "SELECT id, due_ns, interval_ns, event_id, event_type, priority, envelope, key FROM symphony_scheduled WHERE key = ANY($1::text[]) FOR UPDATE",
            [.textArray(Array(named.keys))])
        var entries: [String: ScheduledEntry] = [:]
        for row in 0..<rows.count {
            let entry: ScheduledEntry
            do {
                entry = try self.entry(rows, row, sealer: sealer)
            } catch {
                entry = ScheduledEntry(
                    id: ScheduleID(rawValue: rows.text(row, 0) ?? ""),
                    event: Event(type: rows.text(row, 4) ?? "", priority: Int(try rows.int(row, 5) ?? 0), id: rows.text(row, 3) ?? ""),
                    due: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 1) ?? 0), key: rows.text(row, 7))
            }
            for key in named[entry.key ?? ""] ?? [] { entries[key] = entry }
        }
        return entries
    }

    /// Removes the entries `removing` and stores the keyed `storing` (each sealed as given, with
    /// the lane its event goes to when it fires), in the caller's transaction, which holds the
    /// keys' locks and knows that no other entry of these keys is pending.
    public static func replaceKeyed(
        removing: [ScheduleID], storing entries: [(entry: ScheduledEntry, sealed: SealedEvent)], lanes: [Int?], on connection: PostgresConnection
    ) throws {
        if !removing.isEmpty {
            try connection.execute("DELETE FROM symphony_scheduled WHERE id = ANY($1::text[])", [.textArray(removing.map(\.rawValue))])
        }
        for start in stride(from: 0, to: entries.count, by: 500) {
            var placeholders: [String] = []
            var parameters: [PostgresParameter] = []
            for index in start..<min(entries.count, start + 500) {
                let (entry, sealed) = entries[index]
                let base = parameters.count
                placeholders.append(
                    "($\(base + 1), $\(base + 2)::bigint, NULL, $\(base + 3), $\(base + 4), $\(base + 5)::smallint, $\(base + 6)::bytea, $\(base + 7), $\(base + 8)::smallint, "
                        + "$\(base + 9))")
                parameters += [
                    .text(entry.id.rawValue), .int(entry.due.nanosecondsSinceEpoch), .text(sealed.id), .text(sealed.type), .int(Int64(sealed.priority)),
                    .bytes(sealed.envelope), entry.key.map { .text(PostgresText.storable($0)) } ?? .null,
                    (index < lanes.count ? lanes[index] : nil).map { .int(Int64($0)) } ?? .null, entry.event.causation.map { .text($0.rule) } ?? .null,
                ]
            }
            try connection.execute(
                "INSERT INTO symphony_scheduled (id, due_ns, interval_ns, event_id, event_type, priority, envelope, key, lane, rule) VALUES "
                    + placeholders.joined(separator: ", "), parameters)
        }
    }

    public func cancel(_ id: ScheduleID) throws {
        try connection.withLock { connection in
            _ = try connection.execute("DELETE FROM symphony_scheduled WHERE id = $1", [.text(id.rawValue)])
        }
    }

    /// Stores `entries` in one statement (entries with a key one by one, as `save` does), on
    /// `connection`, in the caller's transaction; `lanes` gives the queue lane (`PostgresEventQueue`)
    /// each entry's event goes to when it fires (none: no lane).
    public static func save(_ entries: [(entry: ScheduledEntry, sealed: SealedEvent)], lanes: [Int?] = [], on connection: PostgresConnection) throws {
        let plain = entries.indices.filter { entries[$0].entry.key == nil }
        for keyed in entries where keyed.entry.key != nil { try save(keyed.entry, sealed: keyed.sealed, on: connection) }
        for start in stride(from: 0, to: plain.count, by: 500) {
            let chunk = plain[start..<min(plain.count, start + 500)]
            var placeholders: [String] = []
            var parameters: [PostgresParameter] = []
            for index in chunk {
                let (entry, sealed) = entries[index]
                let lane = index < lanes.count ? lanes[index] : nil
                let base = parameters.count
                placeholders.append(
                    "($\(base + 1), $\(base + 2)::bigint, $\(base + 3)::bigint, $\(base + 4), $\(base + 5), $\(base + 6)::smallint, $\(base + 7)::bytea, NULL, "
                        + "$\(base + 8)::smallint, $\(base + 9))")
                parameters += [
                    .text(entry.id.rawValue), .int(entry.due.nanosecondsSinceEpoch), entry.interval.map { .int($0.nanoseconds) } ?? .null,
                    .text(sealed.id), .text(sealed.type), .int(Int64(sealed.priority)), .bytes(sealed.envelope), lane.map { .int(Int64($0)) } ?? .null,
                    entry.event.causation.map { .text($0.rule) } ?? .null,
                ]
            }
            try connection.execute(
                "INSERT INTO symphony_scheduled (id, due_ns, interval_ns, event_id, event_type, priority, envelope, key, lane, rule) VALUES "
                    + placeholders.joined(separator: ", ")
                    + " ON CONFLICT (id) DO UPDATE SET due_ns = EXCLUDED.due_ns, interval_ns = EXCLUDED.interval_ns, event_id = EXCLUDED.event_id,"
                    + " event_type = EXCLUDED.event_type, priority = EXCLUDED.priority, envelope = EXCLUDED.envelope, key = EXCLUDED.key, lane = EXCLUDED.lane,"
                    + " rule = EXCLUDED.rule",
                parameters)
        }
    }

    /// Removes the pending entry with `key`; true when there was one.
    @discardableResult
    public func cancel(key: String) throws -> Bool {
        try connection.withLock { connection in
            try connection.execute("DELETE FROM symphony_scheduled WHERE key = $1", [.text(key)]).affected > 0
        }
    }

    /// Nothing to record: the entry's next due time comes with `save`, and `fireDue` moves it on
    /// in its own transaction.
    public func firedPeriodic(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws {}

    /// Removes the fired one-shot entry (`fireDue` already did when it fired it; then nothing happens).
    public func completeFired(_ fired: FiredEntry, event: Event) throws {
        try connection.withLock { connection in
            _ = try connection.execute("DELETE FROM symphony_scheduled WHERE id = $1 AND interval_ns IS NULL", [.text(fired.id.rawValue)])
        }
    }

    /// Fires up to `limit` entries due at `now`, cluster-wide exactly once: their events go into
    /// the shared queue in the transaction that removes (one-shot) or reschedules (periodic) them.
    /// Returns the events queued (sealed), in due order. A one-shot entry's envelope moves into the
    /// queue as it is, unopened; a periodic one is opened for its fresh copy.
    public func fireDue(now: Timestamp, limit: Int) throws -> [SealedEvent] {
        try connection.withLock { connection in
            try connection.transaction { connection in
                let rows = try connection.execute(
                    """
                    SELECT id, due_ns, interval_ns, event_id, event_type, priority, envelope, key, lane FROM symphony_scheduled
                    WHERE due_ns <= $1 ORDER BY due_ns, stored LIMIT $2 FOR UPDATE SKIP LOCKED
                    """,
                    [.int(now.nanosecondsSinceEpoch), .int(Int64(limit))])
                var sealed: [SealedEvent] = []
                var lanes: [Int?] = []
                var done: [String] = []
                for row in 0..<rows.count {
                    lanes.append(try rows.int(row, 8).map { Int($0) })
                    guard let intervalNanoseconds = try rows.int(row, 2), intervalNanoseconds > 0 else {
                        done.append(rows.text(row, 0) ?? "")
                        sealed.append(
                            SealedEvent(
                                id: rows.text(row, 3) ?? "", type: rows.text(row, 4) ?? "", priority: Int(try rows.int(row, 5) ?? 0),
                                envelope: try rows.bytes(row, 6) ?? []))
                        continue
                    }
                    let entry = try entry(rows, row)
                    if let interval = entry.interval {
                        // A copy with a fresh id and its due time as its time; the entry moves to its
                        // first due time after now (saturating, as the scheduler does).
                        var event = entry.event
                        event.id = idGenerator.next()
                        event.time = entry.due
                        let period = max(1, interval.nanoseconds)
                        let (behind, behindOverflow) = now.nanosecondsSinceEpoch.subtractingReportingOverflow(entry.due.nanosecondsSinceEpoch)
                        let (periods, periodsOverflow) = ((behindOverflow ? Int64.max : behind) / period).addingReportingOverflow(1)
                        let (step, stepOverflow) = period.multipliedReportingOverflow(by: periods)
                        let overflow = periodsOverflow || stepOverflow
                        let next = entry.due.advanced(by: .nanoseconds(overflow ? .max : step))
                        try connection.execute(
                            "UPDATE symphony_scheduled SET due_ns = $2 WHERE id = $1", [.text(entry.id.rawValue), .int(next.nanosecondsSinceEpoch)])
                        sealed.append(try SealedEvent(sealing: event, with: sealer))
                    } else {
                        lanes.removeLast()
                    }
                }
                if !done.isEmpty { try connection.execute("DELETE FROM symphony_scheduled WHERE id = ANY($1::text[])", [.textArray(done)]) }
                try PostgresEventQueue.enqueue(sealed, lanes: lanes, at: now, on: connection)
                return sealed
            }
        }
    }

    /// The earliest due time of the pending entries, if any.
    public func nextDue() throws -> Timestamp? {
        let rows = try connection.withLock { try $0.execute("SELECT min(due_ns) FROM symphony_scheduled") }
        return try rows.int(0, 0).map { Timestamp(nanosecondsSinceEpoch: $0) }
    }

    private func entry(_ rows: PostgresRows, _ row: Int) throws -> ScheduledEntry {
        try Self.entry(rows, row, sealer: sealer)
    }

    private static func entry(_ rows: PostgresRows, _ row: Int, sealer: EnvelopeSealer) throws -> ScheduledEntry {
        let id = ScheduleID(rawValue: rows.text(row, 0) ?? "")
        let interval = try rows.int(row, 2)
        let sealed = SealedEvent(
            id: rows.text(row, 3) ?? "", type: rows.text(row, 4) ?? "", priority: Int(try rows.int(row, 5) ?? 0), envelope: try rows.bytes(row, 6) ?? [])
        let event: Event
        do {
            event = try sealed.open(with: sealer)
        } catch {
            throw PostgresError(message: "pending scheduled entry \(id) cannot be opened with the keys given (\(error)); pass the key that sealed it")
        }
        return ScheduledEntry(
            id: id, event: event, due: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 1) ?? 0), interval: interval.map { .nanoseconds($0) },
            sealed: interval == nil ? sealed : nil, key: rows.text(row, 7))
    }
}
