import Logging
import SymphonyCrypto
import SymphonyEvents

/// Symphony's memory: input events, action outcomes, rejected lines and scheduled entries in a
/// SQLite database (WAL mode, versioned migrations), with payloads sealed as envelopes.
///
/// Recording never blocks the event path for a disk write: rows go to a bounded buffer that one
/// writer thread commits in batches (see `HistoryWriter`); when the buffer is full, recording
/// waits — nothing is dropped. `close()` commits every row before it returns.
public final class HistoryStore: Sendable {
    /// The database file.
    public let path: String
    /// The durable store for the scheduler's pending entries.
    public let scheduledEntries: SQLiteScheduledEntryStore
    private let writer: HistoryWriter
    private let sealer: EnvelopeSealer

    /// Opens (creating and migrating when needed) the history database at `path`; payloads are
    /// sealed with `key` (and with retired keys still readable), and the audit head is authenticated with a key derived from it.
    public init(path: String, key: EncryptionKey, retiredKeys: [EncryptionKey] = [], bufferCapacity: Int = 16_384, logger: Logger = Logger(label: "symphony.history")) throws {
        self.path = path
        let sealer = EnvelopeSealer(keyRing: KeyRing(active: key, retired: retiredKeys))
        self.sealer = sealer
        let database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536")
        try HistorySchema.migrate(database)
        writer = try HistoryWriter(database: database, sealer: sealer, auditKey: key, capacity: bufferCapacity, logger: logger)
        scheduledEntries = try SQLiteScheduledEntryStore(path: path, sealer: sealer, writer: writer)
    }

    /// Records an input event.
    public func recordInput(_ event: Event, received: Timestamp = .now()) {
        writer.append(.event(event, received: received, sealed: Self.seal(event, with: sealer)))
    }

    /// Records what an action did (and the event it derived, if any).
    public func record(_ execution: ExecutionRecord) {
        writer.append(.execution(execution, sealedDerived: execution.derivedEvent.flatMap { Self.seal($0, with: sealer) }))
    }

    /// Records an input line that was not a valid event; its content is sealed.
    public func recordRejected(source: String, line: Int?, reason: String, content: [UInt8], received: Timestamp = .now()) {
        writer.append(.deadLetter(source: source, line: line, reason: reason, content: content, received: received))
    }

    /// An event's stored payload, sealed on the calling thread (the writer seals it itself if this fails).
    static func seal(_ event: Event, with sealer: EnvelopeSealer) -> [UInt8]? {
        try? sealer.seal(EventBodyCodec.encode(event), context: HistoryEnvelopes.event(id: event.id))
    }

    /// Appends a record to the hash-chained audit trail.
    public func audit(_ record: AuditRecord) {
        writer.append(.audit(record))
    }

    /// Waits until everything recorded so far is committed.
    public func flush() throws {
        try writer.flush()
    }

    /// Commits everything and stops the writer.
    public func close() throws {
        try writer.close()
    }
}
