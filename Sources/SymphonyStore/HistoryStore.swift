import CoreMetrics
import Logging
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// Symphony's memory: input events, action outcomes, rejected lines and scheduled entries in a
/// SQLite database (WAL mode, versioned migrations), with payloads sealed as envelopes.
///
/// Recording never blocks the event path for a disk write: rows go to a bounded buffer that one
/// writer thread commits in batches (see `HistoryWriter`); when the buffer is full, recording
/// waits — nothing is dropped. `close()` commits every row before it returns.
public final class HistoryStore: HistoryRecorder {
    /// The database file.
    public let path: String
    /// The durable store for the scheduler's pending entries.
    public let sqliteScheduledEntries: SQLiteScheduledEntryStore
    /// The durable store for the scheduler's pending entries (`HistoryRecorder`).
    public var scheduledEntries: any ScheduledEntryStore { sqliteScheduledEntries }
    let writer: HistoryWriter
    let sealer: EnvelopeSealer
    let logger: Logger
    private let activeKeyID: UInt32
    private let key: EncryptionKey

    /// Opens (creating and migrating when needed) the history database at `path`; payloads are
    /// sealed with `key` (and with retired keys still readable), and the history chain's head is authenticated with a key derived from it.
    /// `metrics` gets the writer's batch sizes and commit times (see `HistoryWriter`). Rows wait for
    /// the writer in a buffer of at most `bufferCapacity` rows and about `bufferBytes` bytes
    /// (whichever fills first; recording waits while it is full).
    public init(
        path: String, key: EncryptionKey, retiredKeys: [EncryptionKey] = [], bufferCapacity: Int = 16_384, bufferBytes: Int = 32 << 20,
        logger: Logger = Logger(label: "symphony.history"), metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) throws {
        self.path = path
        let sealer = EnvelopeSealer(keyRing: KeyRing(active: key, retired: retiredKeys))
        self.sealer = sealer
        self.logger = logger
        activeKeyID = key.id
        self.key = key
        let database = try SQLiteDatabase(path: path)
        // A new file gets 32 KiB pages: the writer appends large rows in large commits, and bigger
        // pages halve the system calls and page splits of 4 KiB ones (docs/explanation/performance.md). The size
        // can only be chosen before the first table exists; older files keep theirs.
        // Incremental auto-vacuum lets a prune give freed pages back to the file system
        // (`PRAGMA incremental_vacuum`); like the page size, it is chosen before the first table.
        if try database.userVersion == 0 { try database.execute("PRAGMA page_size = 32768; PRAGMA auto_vacuum = INCREMENTAL") }
        try database.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384")
        var resealed: [String] = []
        try HistorySchema.migrate(
            database, reseal: { resealed = try Self.resealLegacyEventPayloads(in: $0, sealer: sealer, logger: logger) },
            genesis: { try Self.writeGenesisLink(in: $0, key: key) })
        writer = try HistoryWriter(database: database, key: key, retiredKeys: retiredKeys, capacity: bufferCapacity, byteCapacity: bufferBytes, logger: logger, metrics: metrics)
        sqliteScheduledEntries = try SQLiteScheduledEntryStore(path: path, sealer: sealer, writer: writer, logger: logger)
        if !resealed.isEmpty {
            // The migration changed sealed payloads: the hash-chained trail says so (and which).
            let shown = resealed.prefix(20).joined(separator: ", ") + (resealed.count > 20 ? ", …" : "")
            writer.append(
                .audit(
                    AuditRecord(
                        principal: "symphony", operation: .historyMigrate, target: path, outcome: "ok",
                        details: "schema 5: \(resealed.count) event payloads re-sealed under key \(key.idString) (\(shown))")))
        }
    }

    /// True when the database at `path` exists and is at this build's schema version (so opening a
    /// store on it runs no migration). Commands that only append an audit record check this first:
    /// migrating is for `symphony run`, which is given every key (`--retired-key-file`).
    public static func isCurrentSchema(path: String) -> Bool {
        guard let database = try? SQLiteDatabase(path: path, readOnly: true, create: false) else { return false }
        return (try? database.userVersion) == HistorySchema.currentVersion
    }

    /// Records an input event.
    public func recordInput(_ event: Event, received: Timestamp = .now()) {
        recordInput(event, sealed: nil, received: received)
    }

    /// Records an input event with the envelope the queue sealed it in: when that envelope is this
    /// event under this store's active key, it is stored as is instead of sealing again. Package
    /// API: only `symphony run`, whose queue seals with the history's own key, may pass envelopes.
    package func recordInput(_ event: Event, sealed: SealedEvent?, received: Timestamp = .now()) {
        let start = StageTimes.shared.mark()
        let row = HistoryRow.event(EventInsert(event, received: received, payload: envelope(for: event, reusing: sealed)))
        StageTimes.shared.add(.historyRecord, since: start)  // preparing the row, not waiting for room in the buffer
        writer.append(row)
    }

    /// Records input events received at `received` (with the queue's sealed forms, as `recordInput`) in one hand-off to the writer.
    public func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?]) {
        recordInputs(events, received: received, sealed: sealed, position: nil)
    }

    /// Records input events read from a followed file, and how far it was read, in one hand-off
    /// to the writer — so in one commit.
    public func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?], position: FilePosition?) {
        let start = StageTimes.shared.mark()
        var rows: [HistoryRow] = []
        rows.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            let queued = index < sealed.count ? sealed[index] : nil
            let time = index < received.count ? received[index] : .now()
            rows.append(.event(EventInsert(event, received: time, payload: envelope(for: event, reusing: queued))))
        }
        if let position { rows.append(.filePosition(position)) }
        StageTimes.shared.add(.historyRecord, since: start)
        writer.append(contentsOf: rows)
    }

    /// Records what an action did (and the event it derived, if any).
    public func record(_ execution: ExecutionRecord) {
        writer.append(row(for: execution))
    }

    /// Records what several actions did, with their audit records, in one hand-off to the writer.
    ///
    /// When the executions handle an event a scheduled entry fired (`fired`), the entry's `done`
    /// mark goes in the same hand-off — so the same transaction: it never fires again once they are
    /// committed, and fires again after a restart if they were not.
    public func record(_ executions: [ExecutionRecord], audits: [AuditRecord], completing fired: (entry: FiredEntry, event: Event)?) {
        let start = StageTimes.shared.mark()
        var rows: [HistoryRow] = []
        rows.reserveCapacity(executions.count + audits.count + 1)
        if let fired { rows.append(sqliteScheduledEntries.doneRow(for: fired.entry, event: fired.event)) }
        for execution in executions { rows.append(row(for: execution)) }
        for record in audits { rows.append(.audit(record)) }
        StageTimes.shared.add(.historyRecord, since: start)  // preparing the rows, not waiting for room in the buffer
        writer.append(contentsOf: rows)
    }

    func executionRow(for execution: ExecutionRecord) -> HistoryRow { row(for: execution) }

    private func row(for execution: ExecutionRecord) -> HistoryRow {
        let sealedDerived = execution.derivedEvent.flatMap { envelope(for: $0, reusing: execution.sealedDerivedEvent) }
        return .execution(ExecutionInsert(execution, sealedDerived: sealedDerived))
    }

    /// The stored envelope of `event`: the queue's, when it is this very event sealed under the active key; else a new one.
    private func envelope(for event: Event, reusing sealed: SealedEvent?) -> [UInt8]? {
        Self.reusable(sealed, of: event, activeKeyID: activeKeyID)?.envelope ?? Self.seal(event, with: sealer, logger: logger)
    }

    /// `sealed` when it is `event` (same id, type and priority) sealed under the key `activeKeyID`, so it can be stored as is.
    static func reusable(_ sealed: SealedEvent?, of event: Event, activeKeyID: UInt32) -> SealedEvent? {
        guard let sealed, sealed.id == event.id, sealed.type == event.type, sealed.priority == event.priority,
            EnvelopeFormat.keyID(of: sealed.envelope) == activeKeyID
        else { return nil }
        return sealed
    }

    /// Records an input line that was not a valid event, received now; its content is sealed.
    public func recordRejected(source: String, line: Int?, reason: String, content: [UInt8]) {
        recordRejected(source: source, line: line, reason: reason, content: content, received: .now())
    }

    /// Records an input line that was not a valid event, received at `received`; its content is sealed.
    public func recordRejected(source: String, line: Int?, reason: String, content: [UInt8], received: Timestamp) {
        let context = HistoryEnvelopes.deadLetter(source: source, line: line, received: received)
        let sealed = Self.seal(what: "a rejected line's content", logger: logger) { try sealer.seal(content, context: context) }
        writer.append(
            .deadLetter(
                DeadLetterInsert(
                    source: source, line: line.map(Int64.init), reason: reason, receivedNS: received.nanosecondsSinceEpoch, content: sealed)))
    }

    /// An event's stored envelope, sealed on the calling thread (so the writer thread only writes):
    /// the queue's format (`SealedEvent`), bound to the event's id, type and priority.
    static func seal(_ event: Event, with sealer: EnvelopeSealer, logger: Logger) -> [UInt8]? {
        seal(what: "an event payload", logger: logger) { try SealedEvent(sealing: event, with: sealer).envelope }
    }

    /// Runs `sealing`; a failure (an OpenSSL error — never expected) is logged and stores NULL: plaintext is never written.
    static func seal(what: String, logger: Logger, _ sealing: () throws -> [UInt8]) -> [UInt8]? {
        do {
            return try sealing()
        } catch {
            logger.error("could not seal \(what) for history; storing it as NULL", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Re-seals event payloads written under the legacy context (`HistoryEnvelopes.legacyEvent`,
    /// bound to the id only) under the queue's context (id, type, priority), so readers need not
    /// accept the weaker format; returns the ids re-sealed.
    ///
    /// A payload sealed under a key that is not in the ring stops the migration (it is rolled back
    /// and the database stays at its version): re-run with that key as a retired key. A payload
    /// that no longer authenticates (damaged) is left as it is and counted in the log.
    static func resealLegacyEventPayloads(in database: SQLiteDatabase, sealer: EnvelopeSealer, logger: Logger) throws -> [String] {
        let select = try database.prepare("SELECT rowid, id, type, priority, payload FROM events WHERE payload IS NOT NULL")
        let update = try database.prepare("UPDATE events SET payload = ? WHERE rowid = ?")
        var resealed: [String] = []
        var unreadable = 0
        try select.bind([])
        while try select.step() {
            let (rowid, id, type, priority) = (select.int(0), select.text(1) ?? "", select.text(2) ?? "", Int(select.int(3)))
            let envelope = select.blob(4) ?? []
            let context = SealedEvent.context(id: id, type: type, priority: priority)
            if (try? sealer.open(envelope, context: context)) != nil { continue }  // already in the current format
            let body: [UInt8]
            do {
                body = try sealer.open(envelope, context: HistoryEnvelopes.legacyEvent(id: id))
            } catch let error as CryptoError where error.code == .unknownKey {
                let keyID = EnvelopeFormat.keyID(of: envelope).map(EncryptionKey.idString) ?? "?"
                throw StoreError(
                    code: -1,
                    message: "Upgrading the history to schema 5 re-seals its event payloads, and event \(id)'s was sealed with key \(keyID), which was not given; "
                        + "run 'symphony run' with that key (--key-file, or --retired-key-file after a rotation). Nothing was changed.")
            } catch {
                unreadable += 1  // damaged: it did not open before this migration either
                continue
            }
            try update.bind(1, try sealer.seal(body, context: context))
            try update.bind(2, rowid)
            try update.execute()
            resealed.append(id)
        }
        if !resealed.isEmpty || unreadable > 0 {
            logger.notice(
                "history migration: event payloads re-sealed under the current envelope context",
                metadata: ["resealed": "\(resealed.count)", "damaged": "\(unreadable)"])
        }
        return resealed
    }

    /// Writes link 1 of the history chain (migration 6): it names the database with a random id,
    /// covers every row already there (written before the chain existed), and takes over the legacy
    /// audit head; the chain's head is signed under `key`.
    static func writeGenesisLink(in database: SQLiteDatabase, key: EncryptionKey) throws {
        let digests = try ChainTableCursor.digests(of: 1, cursors: try ChainTableCursor.all(in: database))
        var note = "database \(Hex.encode(try SecureRandom.bytes(16)))"
        let legacyHead = try database.prepare("SELECT seq, hash FROM audit_head WHERE id = 1").rows { ($0.int(0), $0.blob(1) ?? []) }
        if let (sequence, hash) = legacyHead.first { note += " legacy-audit-head \(sequence) \(Hex.encode(hash))" }
        let link = ChainLink(sequence: 1, time: .now(), kind: .genesis, digests: digests, note: note, previousHash: HistoryChain.genesis)
        try WriterStatements.insert(link, with: try database.prepare(WriterStatements.insertLinkSQL))
        let mac = HistoryChain.headMAC(sequence: 1, hash: link.hash, macKey: HistoryChain.macKey(from: key))
        try database.prepare(WriterStatements.upsertHeadSQL).run([.int(1), .blob(link.hash), .text(key.idString), .blob(mac)])
    }

    /// The chain's head as a checkpoint signed under the active key (`run --checkpoint`); call after `close()`.
    public func checkpoint() throws -> HistoryCheckpoint? {
        try AuditReader(path: path).checkpoint(key: key)
    }

    /// Appends an operation's audit record (chained with the rest of its commit).
    public func audit(_ record: AuditRecord) {
        writer.append(.audit(record))
    }

    public func handled(through eventID: String) {
        writer.handled(through: eventID)
    }

    public func unhandledInputs() throws -> [Event] {
        let database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        return try database.readTransaction {
            try Self.unhandledInputRows(in: database).compactMap { row in
                guard let envelope = row.envelope,
                    let event = try? SealedEvent(id: row.id, type: row.type, priority: row.priority, envelope: envelope).open(with: sealer)
                else {
                    logger.error("an unhandled input event cannot be opened with the keys given; it is left as it is", metadata: ["event": "\(row.id)"])
                    return nil
                }
                return event
            }
        }
    }

    /// The input events past the last intake mark with no outcome recorded, in recording order
    /// (their envelopes unopened).
    private static func unhandledInputRows(in database: SQLiteDatabase) throws -> [(id: String, type: String, priority: Int, envelope: [UInt8]?)] {
        let notes = try database.prepare(
            "SELECT note FROM chain WHERE note LIKE '\(ChainLink.intakeNotePrefix)%' ORDER BY seq DESC LIMIT 1"
        ).rows { $0.text(0) ?? "" }
        guard let note = notes.first else { return [] }  // no run has marked its intake yet
        let markID = String(note.dropFirst(ChainLink.intakeNotePrefix.count))
        // A prune may have removed the marked event (never the mark's link): every event left came after it.
        guard
            let markRow = try database.prepare("SELECT rowid FROM events WHERE id = ?").rows([.text(markID)], { $0.int(0) }).first
                ?? (try ChainStart.latest(in: database) != nil ? 0 : nil)
        else {
            return []
        }
        return try database.prepare(
            """
            SELECT id, type, priority, payload FROM events e
            WHERE e.rowid > ? AND e.parent_id IS NULL AND e.rule IS NULL
              AND NOT EXISTS (SELECT 1 FROM executions x WHERE x.event_id = e.id)
              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id)
            ORDER BY e.rowid
            """
        ).rows([.int(markRow)]) { (id: $0.text(0) ?? "", type: $0.text(1) ?? "", priority: Int($0.int(2)), envelope: $0.blob(3)) }
    }

    public func handledEvents(within horizon: Duration, isRelevant: (String) -> Bool) throws -> [Event] {
        let database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        return try database.readTransaction {
            // Inputs recorded but not handled are handled again by this run (recovery): not read back here.
            let unhandled = Set(try Self.unhandledInputRows(in: database).map(\.id))
            return try HistoryReplay.handledEvents(in: database, sealer: sealer, excluding: unhandled, within: horizon, isRelevant: isRelevant) { id in
                logger.warning("a recorded event cannot be opened with the keys given; rules with memory start without it", metadata: ["event": "\(id)"])
            }
        }
    }

    public func markRecordedHandled() throws {
        let database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        let last = try database.prepare("SELECT id FROM events WHERE parent_id IS NULL AND rule IS NULL ORDER BY rowid DESC LIMIT 1").rows {
            $0.text(0) ?? ""
        }
        if let id = last.first { writer.handled(through: id) }
    }

    /// Removes the history committed before `cut` (docs/reference/history-database.md, "Retention"): a prefix of the
    /// chain, whole links with every row they covered, and the finished side effects queued before
    /// the cut; signs the chain's new start, and appends a `history.prune` audit record naming what
    /// went (by `principal`, `reason` appended to its details). Never removes a side effect not
    /// finished or anything committed after the cut; delayed events still pending and the last
    /// intake mark that the removed links held are recorded again by the prune's own link. With
    /// `maxRows`, stops after about that many events and executions (`budgetReached`: call again
    /// for the rest). Returns what was removed, once committed; throws when the links to remove do
    /// not verify (nothing is removed then).
    public func prune(before cut: Timestamp, principal: String, reason: String = "", maxRows: Int? = nil) throws -> PruneSummary {
        let plan = try Self.prunePlan(path: path, before: cut, maxRows: maxRows)
        guard !plan.isEmpty else { return plan }
        let result = Locked<PruneSummary?>(nil)
        writer.append(.prune(PruneRequest(cut: cut, principal: principal, reason: reason, maxRows: maxRows, report: { summary in result.withLock { $0 = summary } })))
        try flush()
        return result.withLock { $0 } ?? plan
    }

    /// What `prune(before:principal:)` would remove now, counted, without changing anything (a dry run; needs no key).
    public static func prunePlan(path: String, before cut: Timestamp, maxRows: Int? = nil) throws -> PruneSummary {
        let database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        return try database.readTransaction {
            let pruner = HistoryPruner(database: database)
            return try pruner.counted(try pruner.plan(cut: cut, maxRows: maxRows))
        }
    }

    /// Rebuilds the database file (`VACUUM`) so it takes only the space its rows need, and switches
    /// it to incremental auto-vacuum, so later prunes give space back as they go. Needs as much free
    /// disk as the database takes, and waits for (up to 10 s), or fails beside, another writer.
    /// Returns the file's size before and after, in bytes.
    public static func compact(path: String) throws -> (before: Int64, after: Int64) {
        let database = try SQLiteDatabase(path: path, create: false)
        let before = try fileSize(of: database)
        try database.execute("PRAGMA auto_vacuum = INCREMENTAL; VACUUM; PRAGMA wal_checkpoint(TRUNCATE)")
        return (before, try fileSize(of: database))
    }

    private static func fileSize(of database: SQLiteDatabase) throws -> Int64 {
        let pages = try database.prepare("PRAGMA page_count").rows { $0.int(0) }.first ?? 0
        let size = try database.prepare("PRAGMA page_size").rows { $0.int(0) }.first ?? 0
        return pages * size
    }

    /// True once a batch of rows could not be written (after retries): they are lost.
    public var hasFailed: Bool { writer.hasFailed }

    /// Rows that could not be written, so far.
    public var lostRows: Int { writer.lostRows }

    /// Waits until everything recorded so far is committed.
    public func flush() throws {
        try writer.flush()
    }

    /// Commits everything and stops the writer.
    public func close() throws {
        try writer.close()
    }
}
