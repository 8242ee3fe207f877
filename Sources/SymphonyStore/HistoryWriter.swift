import Glibc
import Logging
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents

/// The one thread that writes history: rows queue in a bounded buffer and are committed in
/// batches, one transaction per batch (group commit), so writes never slow the event path.
///
/// When the buffer is full, `append` waits (back-pressure); nothing is dropped. `flush()` returns
/// once everything appended before it is committed; `close()` commits the rest and stops.
final class HistoryWriter: Sendable {
    private static let notEmpty = 0
    private static let notFull = 1
    private static let committedCondition = 2

    let capacity: Int
    private let lock = ConditionLock(conditionCount: 3)
    // nonisolated(unsafe): every access holds `lock`.
    nonisolated(unsafe) private var pending: [HistoryRow] = []
    nonisolated(unsafe) private var appended = 0
    nonisolated(unsafe) private var committed = 0
    nonisolated(unsafe) private var closed = false
    nonisolated(unsafe) private var failure: StoreError?
    private let thread = Locked<WorkerThread?>(nil)
    private let statements: WriterStatements
    private let logger: Logger

    init(database: SQLiteDatabase, sealer: EnvelopeSealer?, auditKey: EncryptionKey?, capacity: Int = 16_384, logger: Logger) throws {
        self.capacity = capacity
        self.logger = logger
        statements = try WriterStatements(database: database, sealer: sealer, auditKey: auditKey)
        let worker = WorkerThread { [self] in run() }
        thread.withLock { $0 = worker }
    }

    /// Queues a row, waiting while the buffer is full.
    func append(_ row: HistoryRow) {
        lock.withLock {
            while pending.count >= capacity && !closed { lock.wait(Self.notFull) }
            pending.append(row)
            appended += 1
            if pending.count == 1 { lock.signal(Self.notEmpty) }
        }
    }

    /// Waits until every row appended so far is committed; throws the first write failure, if any.
    func flush() throws(StoreError) {
        let writeFailure: StoreError? = lock.withLock {
            let target = appended
            while committed < target && self.failure == nil { lock.wait(Self.committedCondition) }
            return self.failure
        }
        if let writeFailure { throw writeFailure }
    }

    /// Commits what is queued and stops the thread.
    func close() throws(StoreError) {
        lock.withLock {
            closed = true
            lock.broadcast(Self.notEmpty)
        }
        let worker = thread.withLock { thread -> WorkerThread? in
            defer { thread = nil }
            return thread
        }
        worker?.join()
        // Fold the write-ahead log into the database file, so history.db alone is a complete copy.
        try? statements.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if let failure = lock.withLock({ self.failure }) { throw failure }
    }

    private func run() {
        lock.lock()
        while true {
            while pending.isEmpty && !closed { lock.wait(Self.notEmpty) }
            if pending.isEmpty && closed { break }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            lock.broadcast(Self.notFull)
            lock.unlock()
            let result = write(batch)
            lock.lock()
            if let result, failure == nil { failure = result }
            committed += batch.count
            lock.broadcast(Self.committedCondition)
        }
        lock.unlock()
    }

    /// Writes a batch in one transaction, retrying a few times on transient errors; returns the failure if it could not.
    private func write(_ batch: [HistoryRow]) -> StoreError? {
        var lastError: StoreError?
        for attempt in 0..<5 {
            do {
                try statements.writeBatch(batch)
                return nil
            } catch let error as StoreError {
                lastError = error
                logger.error("history write failed; retrying", metadata: ["attempt": "\(attempt + 1)", "error": "\(error)"])
                usleep(UInt32(50_000 * (attempt + 1)))
            } catch {
                lastError = StoreError(code: -1, message: "\(error)")
            }
        }
        logger.critical("history rows could not be written", metadata: ["rows": "\(batch.count)", "error": "\(lastError!)"])
        return lastError
    }
}

/// The writer's prepared statements and the sealing of payloads (used only on the writer thread).
// @unchecked Sendable: used only by the writer thread after init.
final class WriterStatements: @unchecked Sendable {
    let database: SQLiteDatabase
    private let sealer: EnvelopeSealer?
    private let insertEvent: SQLiteStatement
    private let insertExecution: SQLiteStatement
    private let insertDeadLetter: SQLiteStatement
    private let markFired: SQLiteStatement
    private let insertAudit: SQLiteStatement
    private let upsertScheduled: SQLiteStatement
    private let cancelScheduled: SQLiteStatement
    private let upsertAuditHead: SQLiteStatement
    private let readAuditHead: SQLiteStatement
    private let readSignedHead: SQLiteStatement
    private let auditMACKey: [UInt8]?
    private let auditKeyID: String
    private var auditHead: (sequence: Int64, hash: [UInt8])

    init(database: SQLiteDatabase, sealer: EnvelopeSealer?, auditKey: EncryptionKey?) throws {
        self.database = database
        self.sealer = sealer
        auditMACKey = auditKey.map(AuditChain.macKey)
        auditKeyID = auditKey?.idString ?? ""
        insertAudit = try database.prepare(
            "INSERT INTO audit (seq, time_ns, principal, operation, target, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        upsertAuditHead = try database.prepare(
            "INSERT INTO audit_head (id, seq, hash, key_id, mac) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, key_id = excluded.key_id, mac = excluded.mac")
        upsertScheduled = try database.prepare(
            """
            INSERT INTO scheduled (id, due_ns, interval_ns, event_id, event_type, priority, origin_rule, state, envelope)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
            ON CONFLICT (id) DO UPDATE SET due_ns = excluded.due_ns, envelope = excluded.envelope
            """)
        cancelScheduled = try database.prepare("UPDATE scheduled SET state = 'cancelled' WHERE id = ? AND state = 'pending'")
        readAuditHead = try database.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        readSignedHead = try database.prepare("SELECT seq, hash, key_id, mac FROM audit_head WHERE id = 1")
        auditHead = (0, AuditChain.genesis)
        insertEvent = try database.prepare(
            "INSERT OR IGNORE INTO events (id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        insertExecution = try database.prepare(
            "INSERT INTO executions (event_id, rule, action, outcome, error, started_ns, finished_ns, duration_us, derived_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        insertDeadLetter = try database.prepare(
            "INSERT INTO dead_letters (source, line, reason, received_ns, content) VALUES (?, ?, ?, ?, ?)")
        markFired = try database.prepare("UPDATE scheduled SET state = 'done', fired_ns = ?, late = ? WHERE id = ? AND state = 'pending'")
    }

    /// Writes a batch in one transaction; on failure the in-memory audit head is restored so a retry chains correctly.
    func writeBatch(_ batch: [HistoryRow]) throws {
        let head = auditHead
        do {
            try database.transaction {
                // Another process (a second run, `symphony history`, `symphony audit`) may have appended
                // since the last batch: read the chain's end inside this write transaction.
                if batch.contains(where: { if case .audit = $0 { true } else { false } }) {
                    let last = try readAuditHead.rows { ($0.int(0), $0.blob(1) ?? []) }
                    auditHead = last.first.map { (sequence: $0.0, hash: $0.1) } ?? (0, AuditChain.genesis)
                    try checkSignedHead()
                }
                var audited = false
                for row in batch {
                    try write(row)
                    if case .audit = row { audited = true }
                }
                if audited {
                    let mac = auditMACKey.map { AuditChain.headMAC(sequence: auditHead.sequence, hash: auditHead.hash, macKey: $0) } ?? []
                    try upsertAuditHead.run([.int(auditHead.sequence), .blob(auditHead.hash), .text(auditKeyID), .blob(mac)])
                }
            }
        } catch {
            auditHead = head
            throw error
        }
    }

    /// Refuses to extend a trail whose end no longer matches its authenticated head (records were
    /// deleted or rewritten): appending would re-sign the tampered trail and hide the tampering.
    private func checkSignedHead() throws {
        let signed = try readSignedHead.rows { ($0.int(0), $0.blob(1) ?? [], $0.text(2) ?? "", $0.blob(3) ?? []) }
        guard let (sequence, hash, keyID, mac) = signed.first else {
            if auditHead.sequence == 0 { return }
            throw StoreError(code: -1, message: "The audit trail has records but no authenticated head; run 'symphony audit verify' and investigate before writing.")
        }
        let matchesTable = sequence == auditHead.sequence && hash == auditHead.hash
        let macValid = keyID != auditKeyID || auditMACKey.map { AuditChain.headMAC(sequence: sequence, hash: hash, macKey: $0) == mac } ?? true
        guard matchesTable && macValid else {
            throw StoreError(
                code: -1,
                message: "The audit trail does not match its authenticated head (records were removed or rewritten); refusing to extend it. Run 'symphony audit verify'.")
        }
    }

    func write(_ row: HistoryRow) throws {
        switch row {
        case .scheduledSave(let entry, let envelope):
            try upsertScheduled.run([
                .text(entry.id.rawValue), .int(entry.due.nanosecondsSinceEpoch), entry.interval.map { .int($0.nanoseconds) } ?? .null,
                .text(entry.event.id), .text(entry.event.type), .int(Int64(entry.event.priority)),
                entry.event.causation.map { .text($0.rule) } ?? .null, .blob(envelope),
            ])
        case .scheduledCancel(let id):
            try cancelScheduled.run([.text(id.rawValue)])
        case .audit(var record):
            record.sequence = auditHead.sequence + 1
            let hash = AuditChain.hash(record, after: auditHead.hash)
            try insertAudit.run([
                .int(record.sequence), .int(record.time.nanosecondsSinceEpoch), .text(record.principal), .text(record.operation),
                .text(record.target), .text(record.outcome), .text(record.details), .blob(auditHead.hash), .blob(hash),
            ])
            auditHead = (record.sequence, hash)
        case .event(let event, let received, let sealed):
            try insert(event, received: received, sealed: sealed)
        case .execution(let record, let sealedDerived):
            if let derived = record.derivedEvent { try insert(derived, received: record.finished, sealed: sealedDerived) }
            try insertExecution.run([
                .text(record.eventID), .text(record.rule), .text(record.action), .text(record.status),
                record.error.map(SQLiteValue.text) ?? .null, .int(record.started.nanosecondsSinceEpoch),
                .int(record.finished.nanosecondsSinceEpoch), .int(record.started.duration(to: record.finished).nanoseconds / 1_000),
                record.derivedEvent.map { .text($0.id) } ?? .null,
            ])
        case .deadLetter(let source, let line, let reason, let content, let received):
            let sealed = try sealer?.seal(content, context: HistoryEnvelopes.deadLetter(source: source, line: line, received: received))
            try insertDeadLetter.run([
                .text(source), line.map { .int(Int64($0)) } ?? .null, .text(reason), .int(received.nanosecondsSinceEpoch),
                sealed.map(SQLiteValue.blob) ?? .null,
            ])
        case .scheduledFired(let id, let event, let firedAt, let late, let sealed):
            try insert(event, received: firedAt, sealed: sealed)
            try markFired.run([.int(firedAt.nanosecondsSinceEpoch), .int(late ? 1 : 0), .text(id.rawValue)])
        }
    }

    private func insert(_ event: Event, received: Timestamp, sealed: [UInt8]?) throws {
        let payload = try sealed ?? sealer?.seal(EventBodyCodec.encode(event), context: HistoryEnvelopes.event(id: event.id))
        try insertEvent.run([
            .text(event.id), .text(event.type), .int(Int64(event.priority)), event.source.map(SQLiteValue.text) ?? .null,
            .int(received.nanosecondsSinceEpoch), .int(event.time.nanosecondsSinceEpoch),
            event.causation.map { .text($0.parentID) } ?? .null, event.causation.map { .text($0.rule) } ?? .null,
            .int(Int64(event.causation?.hop ?? 0)), payload.map(SQLiteValue.blob) ?? .null,
        ])
    }
}

/// The envelope contexts of stored payloads (docs/history.md).
public enum HistoryEnvelopes {
    /// An event's stored body: domain `symphony.history.event.v1`, field: the event id.
    public static func event(id: String) -> EnvelopeContext {
        EnvelopeContext(domain: "symphony.history.event.v1", fields: [id])
    }

    /// A pending scheduled entry's event: domain `symphony.history.scheduled.v1`, fields: entry id, event id.
    public static func scheduled(id: ScheduleID, eventID: String) -> EnvelopeContext {
        EnvelopeContext(domain: "symphony.history.scheduled.v1", fields: [id.rawValue, eventID])
    }

    /// A rejected input line: domain `symphony.history.dead-letter.v1`, fields: source, line number, received time.
    public static func deadLetter(source: String, line: Int?, received: Timestamp) -> EnvelopeContext {
        EnvelopeContext(
            domain: "symphony.history.dead-letter.v1", fields: [source, line.map(String.init) ?? "", String(received.nanosecondsSinceEpoch)])
    }
}
