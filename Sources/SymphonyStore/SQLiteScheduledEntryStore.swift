import Logging
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents

/// Pending scheduled entries in the history database, so delayed events survive a crash or restart.
///
/// Writes go through the history writer, in order: an entry is committed no later than the
/// execution record of the delay that made it, so a delay counts as done only once it is durable,
/// without a worker ever waiting for the disk.
///
/// A fired one-shot entry is marked done only when `completeFired(_:event:)` is called once its
/// event was handled — by `HistoryStore.record(_:audits:completing:)`, in the same writer hand-off
/// (so the same transaction) as the execution records of that handling. An event published but
/// not handled when the process dies stays pending and fires again after a restart; once its
/// executions are committed, it never does.
///
/// An entry's event is stored as the queue's envelope (`SealedEvent`, context `symphony.event.v1`):
/// the one the scheduler sealed, when it is under this store's active key. Entries stored before
/// under the legacy context (`HistoryEnvelopes.scheduled`) still open.
public final class SQLiteScheduledEntryStore: ScheduledEntryStore {
    private let connection: Locked<SQLiteDatabase>
    private let sealer: EnvelopeSealer
    private let writer: HistoryWriter
    private let logger: Logger

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
                "SELECT id, due_ns, interval_ns, event_id, event_type, priority, envelope, key FROM scheduled WHERE state = 'pending' ORDER BY rowid")
            typealias Row = (
                id: String, due: Int64, interval: Int64?, eventID: String, type: String, priority: Int, envelope: [UInt8], key: String?
            )
            let rows: [Row] = try statement.rows([]) { row in
                (
                    id: row.text(0) ?? "", due: row.int(1), interval: row.isNull(2) ? nil : row.int(2), eventID: row.text(3) ?? "",
                    type: row.text(4) ?? "", priority: Int(row.int(5)), envelope: row.blob(6) ?? [], key: row.text(7)
                )
            }
            var entries: [ScheduledEntry] = []
            for row in rows {
                let id = ScheduleID(rawValue: row.id)
                let sealed = SealedEvent(id: row.eventID, type: row.type, priority: row.priority, envelope: row.envelope)
                let event: Event
                var reusable: SealedEvent?
                do {
                    if let opened = try? sealed.open(with: sealer) {
                        event = opened
                        reusable = row.interval == nil ? sealed : nil
                    } else {
                        // Stored before entries shared the event's envelope.
                        let body = try sealer.open(row.envelope, context: HistoryEnvelopes.scheduled(id: id, eventID: row.eventID))
                        event = try EventBodyCodec.decode(body, id: row.eventID, type: row.type, priority: row.priority)
                    }
                } catch {
                    throw StoreError(
                        code: -1,
                        message: "Pending scheduled entry \(row.id) cannot be opened with the keys given (\(error)); pass the key that wrote it with --key-file or --retired-key-file.")
                }
                entries.append(
                    ScheduledEntry(
                        id: id, event: event, due: Timestamp(nanosecondsSinceEpoch: row.due), interval: row.interval.map { .nanoseconds($0) },
                        sealed: reusable, key: row.key))
            }
            return entries
        }
    }

    /// Queues the entry for the history writer. It is committed in the same batch as, or an
    /// earlier batch than, the execution record of the delay action that made it (the writer is
    /// first-in first-out), so a delay counts as done only once the entry is durable.
    public func save(_ entry: ScheduledEntry) throws {
        let envelope: [UInt8]
        if let sealed = HistoryStore.reusable(entry.sealed, of: entry.event, activeKeyID: sealer.keyRing.activeKey.id) {
            envelope = sealed.envelope
        } else {
            envelope = try SealedEvent(sealing: entry.event, with: sealer).envelope
        }
        writer.append(.scheduledSave(ScheduledInsert(entry, envelope: envelope)))
    }

    public func cancel(_ id: ScheduleID) throws {
        writer.append(.scheduledCancel(id: id.rawValue))
    }

    /// A periodic entry stays pending at its next due time (saved by the scheduler): its event is recorded.
    public func firedPeriodic(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws {
        writer.append(.event(EventInsert(event, received: time, payload: HistoryStore.seal(event, with: sealer, logger: logger))))
    }

    /// Commits the `done` mark of an entry whose event was handled with nothing to record along
    /// (`HistoryStore.record(_:audits:completing:)` commits it with the handling's records).
    public func completeFired(_ fired: FiredEntry, event: Event) throws {
        writer.append(doneRow(for: fired, event: event))
    }

    /// The row that marks `fired` done and stores its event if it is not stored yet (with the
    /// entry's envelope when it is under the active key), received when it fired.
    func doneRow(for fired: FiredEntry, event: Event) -> HistoryRow {
        let payload =
            HistoryStore.reusable(fired.sealed, of: event, activeKeyID: sealer.keyRing.activeKey.id)?.envelope
            ?? HistoryStore.seal(event, with: sealer, logger: logger)
        return .scheduledFired(id: fired.id.rawValue, event: EventInsert(event, received: fired.firedAt, payload: payload), late: fired.isLate)
    }
}
