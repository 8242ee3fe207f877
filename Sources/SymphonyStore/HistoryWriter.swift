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
    /// The writer thread's batch (only the writer thread touches it, outside the lock); swapped
    /// with `pending` under the lock, so neither buffer is reallocated per batch.
    nonisolated(unsafe) private var batch: [HistoryRow] = []
    nonisolated(unsafe) private var appended = 0
    nonisolated(unsafe) private var committed = 0
    nonisolated(unsafe) private var closed = false
    nonisolated(unsafe) private var failure: StoreError?
    private let thread = Locked<WorkerThread?>(nil)
    private let statements: WriterStatements
    private let logger: Logger

    /// `auditKey` signs the audit trail's head; a head signed earlier under one of `retiredAuditKeys`
    /// is checked with that key. Throws when the trail does not match its head, or its head was
    /// signed under a key not given (nothing is written then).
    init(database: SQLiteDatabase, auditKey: EncryptionKey, retiredAuditKeys: [EncryptionKey] = [], capacity: Int = 16_384, logger: Logger) throws {
        self.capacity = capacity
        self.logger = logger
        pending.reserveCapacity(capacity)
        batch.reserveCapacity(capacity)
        statements = try WriterStatements(database: database, auditKey: auditKey, retiredAuditKeys: retiredAuditKeys)
        let worker = WorkerThread(name: "sym-history") { [self] in run() }
        thread.withLock { $0 = worker }
    }

    /// Queues a row, waiting while the buffer is full. After `close()` nothing is written any more:
    /// the row is dropped with an error in the log (callers must finish recording before closing).
    func append(_ row: HistoryRow) {
        lock.withLock {
            while pending.count >= capacity && !closed { lock.wait(Self.notFull) }
            guard !closed else { return droppedAfterClose(1) }
            pending.append(row)
            appended += 1
            if pending.count == 1 { lock.signal(Self.notEmpty) }
        }
    }

    /// Queues rows in order with one lock hand-off, waiting while the buffer is full.
    func append(contentsOf rows: [HistoryRow]) {
        guard !rows.isEmpty else { return }
        lock.withLock {
            while pending.count >= capacity && !closed { lock.wait(Self.notFull) }
            guard !closed else { return droppedAfterClose(rows.count) }
            let wasEmpty = pending.isEmpty
            pending.append(contentsOf: rows)
            appended += rows.count
            if wasEmpty { lock.signal(Self.notEmpty) }
        }
    }

    private func droppedAfterClose(_ count: Int) {
        logger.error("history is closed; rows recorded after closing were not written", metadata: ["rows": "\(count)"])
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
            swap(&batch, &pending)
            lock.broadcast(Self.notFull)
            lock.unlock()
            let result = StageTimes.shared.measure(.historyWrite) { write(batch) }
            let count = batch.count
            batch.removeAll(keepingCapacity: true)  // rows are freed here, outside the lock
            lock.lock()
            if let result, failure == nil { failure = result }
            committed += count
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

/// The writer's prepared statements (used only on the writer thread).
// @unchecked Sendable: used only by the writer thread after init.
final class WriterStatements: @unchecked Sendable {
    let database: SQLiteDatabase
    private let events: BatchedInsert<EventInsert>
    private let executions: BatchedInsert<ExecutionInsert>
    private let insertDeadLetter: SQLiteStatement
    private let markFired: SQLiteStatement
    private let audits: BatchedInsert<(record: AuditRecord, previousHash: [UInt8], hash: [UInt8])>
    private let upsertScheduled: SQLiteStatement
    private let cancelScheduled: SQLiteStatement
    private let upsertAuditHead: SQLiteStatement
    private let readAuditHead: SQLiteStatement
    private let readSignedHead: SQLiteStatement
    private let auditMACKey: [UInt8]
    private let auditKeyID: String
    /// The MAC key of every key given (active and retired), by key id: a head is checked under the key that signed it.
    private let headMACKeys: [String: [UInt8]]
    private var auditHead: (sequence: Int64, hash: [UInt8])

    init(database: SQLiteDatabase, auditKey: EncryptionKey, retiredAuditKeys: [EncryptionKey] = []) throws {
        self.database = database
        auditMACKey = AuditChain.macKey(from: auditKey)
        auditKeyID = auditKey.idString
        var headMACKeys: [String: [UInt8]] = [:]
        for key in retiredAuditKeys { headMACKeys[key.idString] = AuditChain.macKey(from: key) }
        headMACKeys[auditKey.idString] = auditMACKey
        self.headMACKeys = headMACKeys
        audits = try BatchedInsert(
            database: database, head: "INSERT INTO audit (seq, time_ns, principal, operation, target, outcome, details, prev_hash, hash) VALUES",
            columns: 9
        ) { statement, first, chained in
            try statement.bind(first, chained.record.sequence)
            try statement.bind(first + 1, chained.record.time.nanosecondsSinceEpoch)
            try statement.bind(first + 2, chained.record.principal)
            try statement.bind(first + 3, chained.record.operation)
            try statement.bind(first + 4, chained.record.target)
            try statement.bind(first + 5, chained.record.outcome)
            try statement.bind(first + 6, chained.record.details)
            try statement.bind(first + 7, chained.previousHash)
            try statement.bind(first + 8, chained.hash)
        }
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
        events = try BatchedInsert(
            database: database, head: "INSERT OR IGNORE INTO events (id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload) VALUES",
            columns: 10
        ) { statement, first, event in
            try statement.bind(first, event.id)
            try statement.bind(first + 1, event.type)
            try statement.bind(first + 2, event.priority)
            try statement.bind(first + 3, event.source)
            try statement.bind(first + 4, event.receivedNS)
            try statement.bind(first + 5, event.timeNS)
            try statement.bind(first + 6, event.parentID)
            try statement.bind(first + 7, event.rule)
            try statement.bind(first + 8, event.hop)
            try statement.bind(first + 9, event.payload)
        }
        executions = try BatchedInsert(
            database: database,
            head: "INSERT INTO executions (event_id, rule, action, outcome, error, started_ns, finished_ns, duration_us, derived_event_id) VALUES",
            columns: 9
        ) { statement, first, execution in
            try statement.bind(first, execution.eventID)
            try statement.bind(first + 1, execution.rule)
            try statement.bind(first + 2, execution.action)
            try statement.bind(first + 3, execution.status)
            try statement.bind(first + 4, execution.error)
            try statement.bind(first + 5, execution.startedNS)
            try statement.bind(first + 6, execution.finishedNS)
            try statement.bind(first + 7, (execution.finishedNS - execution.startedNS) / 1_000)
            try statement.bind(first + 8, execution.derived?.id)
        }
        insertDeadLetter = try database.prepare(
            "INSERT INTO dead_letters (source, line, reason, received_ns, content) VALUES (?, ?, ?, ?, ?)")
        markFired = try database.prepare("UPDATE scheduled SET state = 'done', fired_ns = ?, late = ? WHERE id = ? AND state = 'pending'")
        // Refuse at once, before any row is queued, a trail this writer could not extend: every
        // later batch with an audit record would fail, and take its events and executions with it.
        try database.readTransaction { try readAndCheckHead() }  // one snapshot; no write lock needed
    }

    /// Reads the chain's end and checks it against the authenticated head (inside a transaction).
    private func readAndCheckHead() throws {
        let last = try readAuditHead.rows { ($0.int(0), $0.blob(1) ?? []) }
        auditHead = last.first.map { (sequence: $0.0, hash: $0.1) } ?? (0, AuditChain.genesis)
        try checkSignedHead()
    }

    /// Writes a batch in one transaction; on failure the in-memory audit head is restored so a retry chains correctly.
    func writeBatch(_ batch: [HistoryRow]) throws {
        let head = auditHead
        do {
            try database.transaction {
                // Another process (a second run, `symphony history`, `symphony audit`) may have appended
                // since the last batch: read the chain's end inside this write transaction.
                if batch.contains(where: { if case .audit = $0 { true } else { false } }) {
                    try readAndCheckHead()
                }
                var audited = false
                try batch.withUnsafeBufferPointer { rows in
                    for index in rows.indices {
                        try write(rows[index])
                        if case .audit = rows[index] { audited = true }
                    }
                }
                // Events and executions go in groups (each table keeps its rows' order; no row of one refers to a later row of another).
                try events.finish()
                try executions.finish()
                try audits.finish()
                if audited {
                    let mac = AuditChain.headMAC(sequence: auditHead.sequence, hash: auditHead.hash, macKey: auditMACKey)
                    try upsertAuditHead.run([.int(auditHead.sequence), .blob(auditHead.hash), .text(auditKeyID), .blob(mac)])
                }
            }
        } catch {
            auditHead = head
            events.discard()
            executions.discard()
            audits.discard()
            throw error
        }
    }

    /// Refuses to extend a trail whose end no longer matches its authenticated head (records were
    /// deleted or rewritten), or whose head's MAC cannot be checked because it names a key not
    /// given: appending would re-sign the trail under this key and hide any tampering.
    private func checkSignedHead() throws {
        let signed = try readSignedHead.rows { ($0.int(0), $0.blob(1) ?? [], $0.text(2) ?? "", $0.blob(3) ?? []) }
        guard let (sequence, hash, keyID, mac) = signed.first else {
            if auditHead.sequence == 0 { return }
            throw StoreError(code: -1, message: "The audit trail has records but no authenticated head; run 'symphony audit verify' and investigate before writing.")
        }
        guard let macKey = headMACKeys[keyID] else {
            throw StoreError(
                code: -1,
                message: "The audit trail's head is signed under key \(keyID), which was not given, so it cannot be checked; "
                    + "pass that key (--retired-key-file after a rotation) or use another database. Nothing was written.")
        }
        let matchesTable = sequence == auditHead.sequence && hash == auditHead.hash
        let macValid = AuditChain.headMAC(sequence: sequence, hash: hash, macKey: macKey) == mac
        guard matchesTable && macValid else {
            throw StoreError(
                code: -1,
                message: "The audit trail does not match its authenticated head (records were removed or rewritten); refusing to extend it. Run 'symphony audit verify'.")
        }
    }

    func write(_ row: HistoryRow) throws {
        switch row {
        case .event(let event):
            try events.add(event)
        case .execution(let execution):
            if let derived = execution.derived { try events.add(derived) }
            try executions.add(execution)
        case .audit(var record):
            record.sequence = auditHead.sequence + 1
            let hash = AuditChain.hash(record, after: auditHead.hash)
            try audits.add((record, auditHead.hash, hash))
            auditHead = (record.sequence, hash)
        case .deadLetter(let source, let line, let reason, let content, let receivedNS):
            let statement = insertDeadLetter
            try statement.bind(1, source)
            try statement.bind(2, line)
            try statement.bind(3, reason)
            try statement.bind(4, receivedNS)
            try statement.bind(5, content)
            try statement.execute()
        case .scheduledSave(let entry):
            let statement = upsertScheduled
            try statement.bind(1, entry.id)
            try statement.bind(2, entry.dueNS)
            try statement.bind(3, entry.intervalNS)
            try statement.bind(4, entry.eventID)
            try statement.bind(5, entry.eventType)
            try statement.bind(6, entry.priority)
            try statement.bind(7, entry.originRule)
            try statement.bind(8, entry.envelope)
            try statement.execute()
        case .scheduledCancel(let id):
            try cancelScheduled.bind(1, id)
            try cancelScheduled.execute()
        case .scheduledFired(let id, let event, let late):
            try events.add(event)
            try markFired.bind(1, event.receivedNS)
            try markFired.bind(2, Int64(late ? 1 : 0))
            try markFired.bind(3, id)
            try markFired.execute()
        }
    }
}

/// The envelope contexts of stored payloads (docs/history.md).
public enum HistoryEnvelopes {
    /// An event's stored envelope is the queue's: `SealedEvent.context(id:type:priority:)`.
    /// Databases written before that change used this context (domain `symphony.history.event.v1`,
    /// field: the event id); migration 5 re-seals such payloads, and readers no longer accept it.
    public static func legacyEvent(id: String) -> EnvelopeContext {
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
