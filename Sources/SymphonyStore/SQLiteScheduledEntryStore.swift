import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents

/// Pending scheduled entries in the history database, so delayed events survive a crash or restart.
///
/// `save` commits before it returns (a delay counts as done only once it is durable). A fired
/// entry is marked done by the history writer in the same transaction that records its event, so
/// after a restart it never fires twice; a cancelled entry is marked cancelled at once.
public final class SQLiteScheduledEntryStore: ScheduledEntryStore {
    private let connection: Locked<SQLiteDatabase>
    private let sealer: EnvelopeSealer
    private let writer: HistoryWriter
    /// How late a firing must be to be marked late.
    public static let lateness: Duration = .seconds(1)

    init(path: String, sealer: EnvelopeSealer, writer: HistoryWriter) throws {
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        connection = Locked(database)
        self.sealer = sealer
        self.writer = writer
    }

    public func loadPending() throws -> [ScheduledEntry] {
        try connection.withLock { database in
            let statement = try database.prepare(
                "SELECT id, due_ns, interval_ns, event_id, event_type, priority, envelope FROM scheduled WHERE state = 'pending' ORDER BY due_ns, id")
            typealias Row = (id: String, due: Int64, interval: Int64?, eventID: String, type: String, priority: Int, envelope: [UInt8])
            let rows: [Row] = try statement.rows([]) { row in
                (
                    id: row.text(0) ?? "", due: row.int(1), interval: row.isNull(2) ? nil : row.int(2), eventID: row.text(3) ?? "",
                    type: row.text(4) ?? "", priority: Int(row.int(5)), envelope: row.blob(6) ?? []
                )
            }
            var entries: [ScheduledEntry] = []
            for row in rows {
                let id = ScheduleID(rawValue: row.id)
                let body: [UInt8]
                do {
                    body = try sealer.open(row.envelope, context: HistoryEnvelopes.scheduled(id: id, eventID: row.eventID))
                } catch {
                    throw StoreError(
                        code: -1,
                        message: "Pending scheduled entry \(row.id) cannot be opened with the keys given (\(error)); pass the key that wrote it with --key-file or --retired-key-file.")
                }
                let event = try EventBodyCodec.decode(body, id: row.eventID, type: row.type, priority: row.priority)
                entries.append(
                    ScheduledEntry(
                        id: id, event: event, due: Timestamp(nanosecondsSinceEpoch: row.due), interval: row.interval.map { .nanoseconds($0) }))
            }
            return entries
        }
    }

    public func save(_ entry: ScheduledEntry) throws {
        let envelope = try sealer.seal(
            EventBodyCodec.encode(entry.event), context: HistoryEnvelopes.scheduled(id: entry.id, eventID: entry.event.id))
        try connection.withLock { database in
            let statement = try database.prepare(
                """
                INSERT INTO scheduled (id, due_ns, interval_ns, event_id, event_type, priority, origin_rule, state, envelope)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                ON CONFLICT (id) DO UPDATE SET due_ns = excluded.due_ns, envelope = excluded.envelope
                """)
            try statement.run([
                .text(entry.id.rawValue), .int(entry.due.nanosecondsSinceEpoch), entry.interval.map { .int($0.nanoseconds) } ?? .null,
                .text(entry.event.id), .text(entry.event.type), .int(Int64(entry.event.priority)),
                entry.event.causation.map { .text($0.rule) } ?? .null, .blob(envelope),
            ])
        }
    }

    public func cancel(_ id: ScheduleID) throws {
        try connection.withLock { database in
            try database.prepare("UPDATE scheduled SET state = 'cancelled' WHERE id = ? AND state = 'pending'").run([.text(id.rawValue)])
        }
    }

    public func fired(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws {
        if entry.interval != nil {
            // A periodic entry stays pending at its next due time (saved by the scheduler); record its event only.
            writer.append(.event(event, received: time))
            return
        }
        writer.append(.scheduledFired(entry.id, event: event, firedAt: time, late: entry.due.advanced(by: Self.lateness) < time))
    }
}
