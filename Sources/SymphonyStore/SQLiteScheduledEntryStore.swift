import Logging
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import Synchronization

/// Pending scheduled entries in the history database, so delayed events survive a crash or restart.
///
/// Writes go through the history writer, in order: an entry is committed no later than the
/// execution record of the delay that made it, so a delay counts as done only once it is durable,
/// without a worker ever waiting for the disk.
///
/// A fired one-shot entry is marked done only once its event was handled: in the same writer
/// hand-off — so the same transaction — as the execution records of that handling
/// (`HistoryStore.record(_:audits:)` takes it), or, for an event no rule acted on, when the
/// worker reports it processed. An event published but not handled when the process dies stays
/// pending and fires again after a restart; once its executions are committed, it never does.
public final class SQLiteScheduledEntryStore: ScheduledEntryStore {
    private let connection: Locked<SQLiteDatabase>
    private let sealer: EnvelopeSealer
    private let writer: HistoryWriter
    private let logger: Logger
    /// Fired one-shot entries whose events are not handled yet, by event id: their `done` rows.
    private let awaiting = Locked<[String: HistoryRow]>([:])
    /// `awaiting.count`, read without the lock on every delivered event.
    private let awaitingCount = Atomic<Int>(0)
    /// How late a firing must be to be marked late.
    public static let lateness: Duration = .seconds(1)

    init(path: String, sealer: EnvelopeSealer, writer: HistoryWriter, logger: Logger) throws {
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        connection = Locked(database)
        self.sealer = sealer
        self.writer = writer
        self.logger = logger
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

    /// Queues the entry for the history writer. It is committed in the same batch as, or an
    /// earlier batch than, the execution record of the delay action that made it (the writer is
    /// first-in first-out), so a delay counts as done only once the entry is durable.
    public func save(_ entry: ScheduledEntry) throws {
        let envelope = try sealer.seal(
            EventBodyCodec.encode(entry.event), context: HistoryEnvelopes.scheduled(id: entry.id, eventID: entry.event.id))
        writer.append(.scheduledSave(ScheduledInsert(entry, envelope: envelope)))
    }

    public func cancel(_ id: ScheduleID) throws {
        writer.append(.scheduledCancel(id: id.rawValue))
    }

    /// A one-shot entry starts waiting for its event's handling (before the event is published,
    /// so a worker cannot handle it first). Should the publish fail, the entry stays pending in
    /// the database and its waiting row is dropped with the process.
    public func willFire(_ entry: ScheduledEntry, event: Event, at time: Timestamp) {
        guard entry.interval == nil else { return }
        let row = EventInsert(event, received: time, payload: HistoryStore.seal(event, with: sealer, logger: logger))
        let done = HistoryRow.scheduledFired(id: entry.id.rawValue, event: row, late: entry.due.advanced(by: Self.lateness) < time)
        awaiting.withLock { rows in
            if rows.updateValue(done, forKey: event.id) == nil { awaitingCount.add(1, ordering: .relaxed) }
        }
    }

    /// A periodic entry stays pending at its next due time (saved by the scheduler): its event is
    /// recorded. A one-shot entry's `done` mark already waits for the event's handling (`willFire`).
    public func fired(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws {
        guard entry.interval != nil else { return }
        writer.append(.event(EventInsert(event, received: time, payload: HistoryStore.seal(event, with: sealer, logger: logger))))
    }

    /// Commits the `done` mark of an event no handler recorded anything for.
    public func processed(eventID: String) {
        if let done = takeFired(eventID: eventID) { writer.append(done) }
    }

    /// The `done` row of the fired entry whose event is `eventID`, if it is still waiting (taken once).
    func takeFired(eventID: String) -> HistoryRow? {
        guard awaitingCount.load(ordering: .relaxed) > 0 else { return nil }
        return awaiting.withLock { rows in
            guard let done = rows.removeValue(forKey: eventID) else { return nil }
            awaitingCount.subtract(1, ordering: .relaxed)
            return done
        }
    }
}
