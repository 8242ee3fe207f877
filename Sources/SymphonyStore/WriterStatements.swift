import SymphonyCrypto
import SymphonyEvents
import SymphonyHashing
import SymphonyRecords

/// The history writer's prepared statements and the link it is writing (used only on the writer
/// thread). Each batch is one transaction and one link of the history chain: every row the batch
/// writes carries the link's number, and the link's digests cover exactly those rows
/// (docs/reference/history-database.md, "The chain").
// @unchecked Sendable: used only by the writer thread after init.
final class WriterStatements: @unchecked Sendable {
    let database: SQLiteDatabase
    private let events: BatchedInsert<EventInsert>
    private let executions: BatchedInsert<SequencedExecution>
    private let audits: BatchedInsert<AuditRecord>
    /// The link being written, read by the batched inserts' bind closures.
    private let current = CurrentLink()
    private let insertDeadLetter: SQLiteStatement
    private let insertOutbox: SQLiteStatement
    /// For each `.afterCommit` row of the last batch, in order: the action keys of the outbox rows
    /// queued with it (after the previous `.afterCommit`) whose entry was there already — queued
    /// before the batch, or by an earlier row of the same batch — and so was not queued again.
    private(set) var alreadyQueued: [Set<String>] = []
    /// Keys found already queued since the last `.afterCommit` row of the batch being written.
    private var alreadyQueuedSinceCallback: Set<String> = []
    private let updateOutbox: SQLiteStatement
    private let requeueOutbox: SQLiteStatement
    private let upsertFilePosition: SQLiteStatement
    private let insertScheduled: SQLiteStatement
    /// The same insert for a one-shot entry this batch also fires: stored in its final state (see `firedOnSave`).
    private let insertScheduledFired: SQLiteStatement
    private let moveScheduled: SQLiteStatement
    private let markFired: SQLiteStatement
    private let cancelScheduled: SQLiteStatement
    private let insertChange: SQLiteStatement
    private let insertLink: SQLiteStatement
    private let upsertHead: SQLiteStatement
    private let readLastLink: SQLiteStatement
    private let readSignedHead: SQLiteStatement
    private let readNextSequences: SQLiteStatement
    private let readEventsSince: SQLiteStatement
    private let readEventExists: SQLiteStatement
    private let readLastEventRowID: SQLiteStatement
    private let macKey: [UInt8]
    private let keyID: String
    /// The MAC key of every key given (active and retired), by key id: a head is checked under the key that signed it.
    private let headMACKeys: [String: [UInt8]]
    /// Every key given (the active one first), for checking links before a prune removes them.
    private let keys: [EncryptionKey]
    /// The summary `--stats` reads, kept with the executions.
    private let stats: ExecutionStatsSummary
    /// The first execution number of the batch being written.
    private var firstExecution: Int64 = 0
    /// The prunes of the batch being written, with what they removed, to report once it is committed.
    private(set) var pruneReports: [(report: @Sendable (PruneSummary) -> Void, summary: PruneSummary)] = []

    // The link being written (valid between `beginLink` and `endLink`).
    private var link: Int64 {
        get { current.number }
        set { current.number = newValue }
    }
    private var previousHash: [UInt8] = []
    private var nextExecution: Int64 = 0
    private var nextDeadLetter: Int64 = 0
    private var nextChange: Int64 = 0
    private var nextAudit: Int64 = 0
    private var lastEventRowIDBefore: Int64 = 0
    /// The intake mark a prune in this batch removed with its link: this link carries it on.
    private var carriedMark: String?
    private var eventsAdded = 0
    /// The ids of the events this batch has added since it began or since its last prune. An
    /// event is added once: a delayed event fired in the same batch as the delay that made it is
    /// stored by whichever row comes first, and an input event read twice is stored once. (Adding
    /// it again would be ignored by the insert, and the link would then have to re-read its batch
    /// to digest what was written.) Compared by bytes, as the `events.id` key compares them:
    /// canonically equivalent spellings are two ids.
    private var addedEventIDs: Set<ByteStringKey> = []
    /// One-shot entries this batch stores and then fires, with nothing else in the batch touching
    /// them: when and how late each fired. They are inserted already done — the state the insert
    /// and the fired update would leave — saving the update, which rewrites the entry's envelope.
    private var firedOnSave: [String: (firedNS: Int64, late: Bool)] = [:]
    /// Entries of `firedOnSave` inserted done by this batch, with their due times (for their `done` change).
    private var storedAsFired: [String: Int64] = [:]
    /// Fired delayed events not stored again because an earlier link holds them: a prune later in
    /// this batch may remove that link, and then this one stores them.
    private var firedStoredEarlier: [EventInsert] = []
    private var encodedEvents = ChainRowEncoding(reservingCapacity: 1 << 20)
    private var encodedExecutions = ChainRowEncoding(reservingCapacity: 1 << 18)
    private var encodedEntries = ChainRowEncoding()
    private var encodedChanges = ChainRowEncoding()
    private var encodedDeadLetters = ChainRowEncoding()
    private var encodedAudits = ChainRowEncoding()

    /// Checks, before anything is queued, that the chain can be extended: its links chain from the
    /// genesis link, the audit records match their links, and the head is signed under a key given.
    init(database: SQLiteDatabase, key: EncryptionKey, retiredKeys: [EncryptionKey] = []) throws {
        self.database = database
        macKey = HistoryChain.macKey(from: key)
        keyID = key.idString
        var headMACKeys: [String: [UInt8]] = [:]
        for key in retiredKeys { headMACKeys[key.idString] = HistoryChain.macKey(from: key) }
        headMACKeys[key.idString] = macKey
        self.headMACKeys = headMACKeys
        keys = [key] + retiredKeys
        stats = try ExecutionStatsSummary(database: database)
        let current = self.current
        events = try BatchedInsert(
            database: database,
            head: "INSERT OR IGNORE INTO events (link, id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload) VALUES",
            columns: 11
        ) { statement, first, event in
            try statement.bind(first, current.number)
            try statement.bind(first + 1, event.id)
            try statement.bind(first + 2, event.type)
            try statement.bind(first + 3, event.priority)
            try statement.bind(first + 4, event.source)
            try statement.bind(first + 5, event.receivedNS)
            try statement.bind(first + 6, event.timeNS)
            try statement.bind(first + 7, event.parentID)
            try statement.bind(first + 8, event.rule)
            try statement.bind(first + 9, event.hop)
            try statement.bind(first + 10, event.payload)
        }
        executions = try BatchedInsert(
            database: database,
            head:
                "INSERT INTO executions (seq, link, event_id, rule, kind, outcome, error, message, started_ns, duration_us, derived_event_id, key) VALUES",
            columns: 12
        ) { statement, first, item in
            let execution = item.row
            try statement.bind(first, item.sequence)
            try statement.bind(first + 1, current.number)
            try statement.bind(first + 2, execution.eventID)
            try statement.bind(first + 3, execution.rule)
            try statement.bind(first + 4, execution.kind)
            try statement.bind(first + 5, execution.outcome)
            try statement.bind(first + 6, execution.error)
            try statement.bind(first + 7, execution.message)
            try statement.bind(first + 8, execution.startedNS)
            try statement.bind(first + 9, execution.durationMicroseconds)
            try statement.bind(first + 10, execution.derivedEventID)
            try statement.bind(first + 11, execution.key)
        }
        audits = try BatchedInsert(
            database: database,
            head: "INSERT INTO audit (seq, link, time_ns, principal, operation, target, outcome, details, prev_hash, hash) VALUES",
            columns: 10
        ) { statement, first, record in
            try statement.bind(first, record.sequence)
            try statement.bind(first + 1, current.number)
            try statement.bind(first + 2, record.time.nanosecondsSinceEpoch)
            try statement.bind(first + 3, record.principal)
            try statement.bind(first + 4, record.operation.rawValue)
            try statement.bind(first + 5, record.target)
            try statement.bind(first + 6, record.outcome)
            try statement.bind(first + 7, record.details)
            // The per-record chain of schema 5 and older; the link's digest covers records now.
            try statement.bind(first + 8, [UInt8]())
            try statement.bind(first + 9, [UInt8]())
        }
        insertOutbox = try database.prepare(
            """
            INSERT INTO outbox (action_key, event_id, event_type, rule, kind, gate_key, request, queued_ns, next_ns, queue_seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(rowid), 0) + 1 FROM outbox)) ON CONFLICT (action_key) DO NOTHING
            """)
        updateOutbox = try database.prepare("UPDATE outbox SET state = ?, attempts = ?, next_ns = ?, last_error = ? WHERE action_key = ?")
        upsertFilePosition = try database.prepare(
            """
            INSERT INTO followed_files (path, device, inode, offset, updated_ns) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode, offset = excluded.offset, updated_ns = excluded.updated_ns
            """)
        requeueOutbox = try database.prepare(
            "UPDATE outbox SET state = 0, attempts = 0, next_ns = ?, queued_ns = ?, last_error = NULL WHERE action_key = ? AND state = 2")
        insertDeadLetter = try database.prepare(
            "INSERT INTO dead_letters (seq, link, source, line, reason, received_ns, content) VALUES (?, ?, ?, ?, ?, ?, ?)")
        insertScheduled = try database.prepare(
            """
            INSERT INTO scheduled (id, link, due_ns, interval_ns, event_id, event_type, priority, origin_rule, state, envelope, key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (id) DO NOTHING
            """)
        moveScheduled = try database.prepare("UPDATE scheduled SET due_ns = ? WHERE id = ? AND state = 'pending' RETURNING due_ns")
        insertScheduledFired = try database.prepare(
            """
            INSERT INTO scheduled (id, link, due_ns, interval_ns, event_id, event_type, priority, origin_rule, state, envelope, key, fired_ns, late)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """)
        markFired = try database.prepare(
            "UPDATE scheduled SET state = 'done', fired_ns = ?, late = ? WHERE id = ? AND state = 'pending' RETURNING due_ns")
        cancelScheduled = try database.prepare("UPDATE scheduled SET state = 'cancelled' WHERE id = ? AND state = 'pending' RETURNING due_ns")
        insertChange = try database.prepare(
            "INSERT INTO scheduled_changes (seq, link, entry_id, state, due_ns, fired_ns, late) VALUES (?, ?, ?, ?, ?, ?, ?)")
        insertLink = try database.prepare(Self.insertLinkSQL)
        upsertHead = try database.prepare(Self.upsertHeadSQL)
        readLastLink = try database.prepare("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1")
        readSignedHead = try database.prepare("SELECT seq, hash, key_id, mac FROM chain_head WHERE id = 1")
        readNextSequences = try database.prepare(
            """
            SELECT max(COALESCE((SELECT MAX(seq) FROM executions), 0), COALESCE((SELECT MAX(executions_seq) FROM chain_start), 0)),
                   max(COALESCE((SELECT MAX(seq) FROM dead_letters), 0), COALESCE((SELECT MAX(dead_letters_seq) FROM chain_start), 0)),
                   max(COALESCE((SELECT MAX(seq) FROM scheduled_changes), 0), COALESCE((SELECT MAX(changes_seq) FROM chain_start), 0)),
                   max(COALESCE((SELECT MAX(seq) FROM audit), 0), COALESCE((SELECT MAX(audit_seq) FROM chain_start), 0)),
                   (SELECT COALESCE(MAX(rowid), 0) FROM events)
            """)
        readEventExists = try database.prepare("SELECT 1 FROM events WHERE id = ?")
        readLastEventRowID = try database.prepare("SELECT coalesce(max(rowid), 0) FROM events WHERE rowid <= ?")
        readEventsSince = try database.prepare(
            "SELECT id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload FROM events WHERE rowid > ? ORDER BY rowid")
        // Refuse at once, before any row is queued, a chain this writer could not extend: every
        // later batch would fail, and take its events and executions with it.
        let keys = [key] + retiredKeys
        let verification = try database.readTransaction { try ChainVerifier(database: database, keys: keys, scope: .operations).verify() }
        if case .broken(let sequence, let problem) = verification {
            throw StoreError(
                code: -1,
                message: "The history chain is broken at link \(sequence): \(problem). Refusing to extend it; run 'symphony audit verify' and investigate.")
        }
    }

    /// Writes a batch in one transaction, as one link.
    func writeBatch(_ batch: [HistoryRow], intakeMark: String? = nil) throws {
        do {
            try database.transaction {
                // Another process (a second run, `symphony history`, `symphony audit`) may have
                // appended since the last batch: read the chain's end inside this write transaction.
                try beginLink()
                findFiredOnSave(in: batch)
                try batch.withUnsafeBufferPointer { rows in
                    for index in rows.indices { try write(rows[index]) }
                }
                try events.finish()
                try executions.finish()
                try audits.finish()
                try endLink(intakeMark: intakeMark)
            }
        } catch {
            events.discard()
            executions.discard()
            audits.discard()
            throw error
        }
    }

    /// Fills `firedOnSave`: the one-shot entries `batch` saves once and then fires once, with no
    /// cancel, second save or second firing of them in between or after.
    private func findFiredOnSave(in batch: [HistoryRow]) {
        firedOnSave.removeAll(keepingCapacity: true)
        storedAsFired.removeAll(keepingCapacity: true)
        var saved: Set<String> = []
        var excluded: Set<String> = []
        // By index, so that the rows it does not look into are not copied.
        for index in batch.indices {
            switch batch[index] {
            case .scheduledSave(let entry):
                if entry.intervalNS != nil || !saved.insert(entry.id).inserted { excluded.insert(entry.id) }
            case .scheduledCancel(let id):
                excluded.insert(id)
            case .scheduledFired(let id, let event, let late):
                if saved.contains(id) && firedOnSave[id] == nil {
                    firedOnSave[id] = (event.receivedNS, late)
                } else {
                    excluded.insert(id)
                }
            default:
                continue
            }
        }
        for id in excluded { firedOnSave.removeValue(forKey: id) }
    }

    /// Returns the pages a prune freed to the file system, when the database was made with
    /// `auto_vacuum = INCREMENTAL` (a no-op otherwise: `symphony history prune --vacuum` rebuilds it).
    func reclaimFreePages() {
        try? database.execute("PRAGMA incremental_vacuum")
    }

    /// Reads and checks the chain's end, and where each table's sequence numbers go on.
    private func beginLink() throws {
        guard let last = try readLastLink.rows([], { ($0.int(0), $0.blob(1) ?? []) }).first else {
            throw StoreError(code: -1, message: "The history chain has no genesis link (it was erased); refusing to write. Run 'symphony audit verify'.")
        }
        try checkSignedHead(sequence: last.0, hash: last.1)
        link = last.0 + 1
        previousHash = last.1
        let next = try readNextSequences.rows { ($0.int(0), $0.int(1), $0.int(2), $0.int(3), $0.int(4)) }[0]
        (nextExecution, nextDeadLetter, nextChange, nextAudit, lastEventRowIDBefore) = (next.0 + 1, next.1 + 1, next.2 + 1, next.3 + 1, next.4)
        eventsAdded = 0
        addedEventIDs.removeAll(keepingCapacity: true)
        firedStoredEarlier.removeAll()
        alreadyQueued.removeAll()
        alreadyQueuedSinceCallback.removeAll()
        pruneReports.removeAll()
        carriedMark = nil
        stats.reset()
        firstExecution = nextExecution
        events.resetInserted()
        encodedEvents.removeAll()
        encodedExecutions.removeAll()
        encodedEntries.removeAll()
        encodedChanges.removeAll()
        encodedDeadLetters.removeAll()
        encodedAudits.removeAll()
    }

    /// Appends the link covering what this batch wrote, and moves the authenticated head to it.
    private func endLink(intakeMark: String?) throws {
        try stats.write(firstSequence: firstExecution)
        if events.inserted != eventsAdded {
            // Some events were already stored (INSERT OR IGNORE skipped them): digest what was written.
            encodedEvents.removeAll()
            try readEventsSince.bind([.int(lastEventRowIDBefore)])
            while try readEventsSince.step() {
                let row = readEventsSince
                let stored = EventInsert(
                    id: row.text(0) ?? "", type: row.text(1) ?? "", priority: row.int(2), source: row.text(3), receivedNS: row.int(4),
                    timeNS: row.int(5), parentID: row.text(6), rule: row.text(7), hop: row.int(8), payload: row.blob(9))
                encodedEvents.append(encoded: stored.encoded)
            }
        }
        let digests = TableDigests(
            events: encodedEvents.digest, executions: encodedExecutions.digest, scheduled: encodedEntries.digest(followedBy: encodedChanges),
            deadLetters: encodedDeadLetters.digest, audit: encodedAudits.digest)
        let note = (intakeMark ?? carriedMark).map { ChainLink.intakeNotePrefix + $0 } ?? ""
        let chained = ChainLink(sequence: link, time: .now(), kind: .commit, digests: digests, note: note, previousHash: previousHash)
        try Self.insert(chained, with: insertLink)
        let mac = HistoryChain.headMAC(sequence: chained.sequence, hash: chained.hash, macKey: macKey)
        try upsertHead.run([.int(chained.sequence), .blob(chained.hash), .text(keyID), .blob(mac)])
    }

    /// Stores a link: bind `insert(_:with:)`'s values.
    static let insertLinkSQL = """
        INSERT INTO chain (seq, time_ns, kind, events_digest, executions_digest, scheduled_digest, dead_letters_digest, audit_digest, note, prev_hash, hash)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Moves the signed head: seq, hash, key id, MAC.
    static let upsertHeadSQL = """
        INSERT INTO chain_head (id, seq, hash, key_id, mac) VALUES (1, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, key_id = excluded.key_id, mac = excluded.mac
        """

    /// Stores a link (the writer's, and the genesis link).
    static func insert(_ link: ChainLink, with statement: SQLiteStatement) throws {
        try statement.run([
            .int(link.sequence), .int(link.time.nanosecondsSinceEpoch), .int(link.kind.rawValue), .blob(link.digests.events),
            .blob(link.digests.executions), .blob(link.digests.scheduled), .blob(link.digests.deadLetters), .blob(link.digests.audit),
            .text(link.note), .blob(link.previousHash), .blob(link.hash),
        ])
    }

    /// Refuses to extend a chain whose end no longer matches its authenticated head (links were
    /// removed or rewritten), or whose head's MAC cannot be checked because it names a key not
    /// given: appending would re-sign the chain under this key and hide any tampering.
    private func checkSignedHead(sequence lastSequence: Int64, hash lastHash: [UInt8]) throws {
        guard let (sequence, hash, keyID, mac) = try readSignedHead.rows([], { ($0.int(0), $0.blob(1) ?? [], $0.text(2) ?? "", $0.blob(3) ?? []) }).first
        else {
            throw StoreError(code: -1, message: "The history chain has no authenticated head; run 'symphony audit verify' and investigate before writing.")
        }
        guard let macKey = headMACKeys[keyID] else {
            throw StoreError(
                code: -1,
                message: "The history chain's head is signed under key \(keyID), which was not given, so it cannot be checked; "
                    + "pass that key (--retired-key-file after a rotation) or use another database. Nothing was written.")
        }
        let matchesTable = sequence == lastSequence && hash == lastHash
        let macValid = ConstantTime.equal(HistoryChain.headMAC(sequence: sequence, hash: hash, macKey: macKey), mac)
        guard matchesTable && macValid else {
            throw StoreError(
                code: -1,
                message: "The history chain does not match its authenticated head (links were removed or rewritten); refusing to extend it. Run 'symphony audit verify'.")
        }
    }

    /// Stores `event` unless this batch stores it already.
    private func addEvent(_ event: EventInsert) throws {
        guard addedEventIDs.insert(ByteStringKey(event.id)).inserted else { return }
        try events.add(event)
        encodedEvents.append(encoded: event.encoded)
        eventsAdded += 1
    }

    private func addChange(_ change: ScheduledChange) throws {
        let sequence = nextChange
        nextChange += 1
        try insertChange.run([
            .int(sequence), .int(link), .text(change.entryID), .int(change.state.rawValue), .int(change.dueNS),
            change.firedNS.map { .int($0) } ?? .null, .int(change.late ? 1 : 0),
        ])
        encodedChanges.scheduledChange(sequence: sequence, change)
    }

    func write(_ row: HistoryRow) throws {
        switch row {
        case .event(let event):
            try addEvent(event)
        case .execution(let execution):
            if let derived = execution.derived { try addEvent(derived) }
            try executions.add(SequencedExecution(sequence: nextExecution, row: execution))
            nextExecution += 1
            stats.add(execution)
            encodedExecutions.append(encoded: execution.encoded)
        case .audit(var record):
            record.sequence = nextAudit
            nextAudit += 1
            try audits.add(record)
            encodedAudits.audit(record)
        case .deadLetter(let letter):
            let sequence = nextDeadLetter
            nextDeadLetter += 1
            try insertDeadLetter.run([
                .int(sequence), .int(link), .text(letter.source), letter.line.map { .int($0) } ?? .null, .text(letter.reason),
                .int(letter.receivedNS), letter.content.map { .blob($0) } ?? .null,
            ])
            encodedDeadLetters.deadLetter(sequence: sequence, letter)
        case .scheduledSave(let entry):
            var values: [SQLiteValue] = [
                .text(entry.id), .int(link), .int(entry.dueNS), entry.intervalNS.map { .int($0) } ?? .null, .text(entry.eventID),
                .text(entry.eventType), .int(entry.priority), entry.originRule.map { .text($0) } ?? .null, .blob(entry.envelope),
                entry.key.map { .text($0) } ?? .null,
            ]
            let fired = firedOnSave[entry.id]
            if let fired {
                values += [.int(fired.firedNS), .int(fired.late ? 1 : 0)]
                try insertScheduledFired.run(values)
            } else {
                try insertScheduled.run(values)
            }
            if database.changes == 1 {
                encodedEntries.scheduledEntry(entry)
                try addChange(ScheduledChange(entryID: entry.id, state: .pending, dueNS: entry.dueNS, firedNS: nil, late: false))
                if fired != nil { storedAsFired[entry.id] = entry.dueNS }
            } else if try !moveScheduled.rows([.int(entry.dueNS), .text(entry.id)], { $0.int(0) }).isEmpty {
                // A periodic entry's next due time; an entry cancelled meanwhile stays cancelled.
                try addChange(ScheduledChange(entryID: entry.id, state: .pending, dueNS: entry.dueNS, firedNS: nil, late: false))
            }
        case .scheduledCancel(let id):
            if let due = try cancelScheduled.rows([.text(id)], { $0.int(0) }).first {
                try addChange(ScheduledChange(entryID: id, state: .cancelled, dueNS: due, firedNS: nil, late: false))
            }
        case .intakeMark:
            break  // the link itself carries the mark
        case .prune(let request):
            // The batch's executions so far go in first, counted in the summary against the rows
            // the prune is about to remove; those after it are counted against what it leaves.
            try executions.finish()
            try stats.write(firstSequence: firstExecution)
            // Executions after the prune are summarised on their own: those above are now earlier
            // rows, so an event a rule acted on both before and after it counts as one firing.
            firstExecution = nextExecution
            let pruner = HistoryPruner(database: database)
            let plan = try pruner.plan(cut: request.cut, maxRows: request.maxRows)
            let (summary, carried, mark) = try pruner.prune(plan, principal: request.principal, keyID: keyID, macKey: macKey, keys: keys)
            // An event added before the prune may not be stored any more: its insert was ignored
            // because an earlier link held it, and the prune removed that link. Added again from
            // here on, it is stored (or ignored, and the link re-reads what it wrote).
            addedEventIDs.removeAll(keepingCapacity: true)
            // Rows the prune removed may have had the highest row ids: a row this link adds from
            // now on can get a lower id than the batch started above, where re-reading the
            // batch's events (when an insert was ignored) would not find it.
            lastEventRowIDBefore = try readLastEventRowID.rows([.int(lastEventRowIDBefore)], { $0.int(0) })[0]
            // A fired delayed event left to the link that stored it is stored by this one if that link is gone.
            let stillStored = firedStoredEarlier
            firedStoredEarlier.removeAll()
            for event in stillStored where try readEventExists.rows([.text(event.id)], { $0.int(0) }).isEmpty {
                try addEvent(event)
            }
            // What the removed links held that must outlive them is recorded again by this link.
            // Their saves are not rows of the batch, so the pre-scan did not see them: they take
            // the two steps (insert pending, update when fired), as does any later save of their ids.
            for entry in carried {
                firedOnSave.removeValue(forKey: entry.id)
                try write(.scheduledSave(entry))
            }
            if let mark { carriedMark = mark }
            if !summary.isEmpty {
                // This link records the prune: the removed links' rows are gone, the record stays.
                try write(
                    .audit(
                        AuditRecord(
                            principal: request.principal, operation: .historyPrune, target: database.path, outcome: "ok",
                            details: summary.details + request.reason)))
            }
            pruneReports.append((request.report, summary))
        case .afterCommit:
            // Callbacks run after the commit, each told about the rows queued with it.
            alreadyQueued.append(alreadyQueuedSinceCallback)
            alreadyQueuedSinceCallback.removeAll()
        case .outboxQueued(let entry):
            try insertOutbox.run([
                .text(entry.key), .text(entry.eventID), .text(entry.eventType), .text(entry.rule), .int(entry.kind),
                entry.gateKey.map { .text($0) } ?? .null, .blob(entry.request), .int(entry.queuedNS), .int(entry.nextNS),
            ])
            // Already queued (an event handled again after a crash, or twice in this batch): whoever queued it first runs it.
            if database.changes == 0 { alreadyQueuedSinceCallback.insert(entry.key) }
        case .filePosition(let position):
            try upsertFilePosition.run([
                .text(position.path), .int(Int64(bitPattern: position.device)), .int(Int64(bitPattern: position.inode)), .int(position.offset),
                .int(Timestamp.now().nanosecondsSinceEpoch),
            ])
        case .outboxRequeue(let key, let nowNS):
            try requeueOutbox.run([.int(nowNS), .int(nowNS), .text(key)])
        case .outboxUpdate(let key, let state, let attempts, let nextNS, let lastError):
            try updateOutbox.run([.int(state), .int(attempts), .int(nextNS), lastError.map { .text($0) } ?? .null, .text(key)])
        case .scheduledFired(let id, let event, let late):
            // A delayed event is stored with the delay that made it, usually (in this batch, or in an earlier one).
            if !addedEventIDs.contains(ByteStringKey(event.id)) {
                if try readEventExists.rows([.text(event.id)], { $0.int(0) }).isEmpty {
                    try addEvent(event)
                } else {
                    firedStoredEarlier.append(event)
                }
            }
            if let due = storedAsFired.removeValue(forKey: id) {
                try addChange(ScheduledChange(entryID: id, state: .done, dueNS: due, firedNS: event.receivedNS, late: late))  // inserted done
            } else if let due = try markFired.rows([.int(event.receivedNS), .int(late ? 1 : 0), .text(id)], { $0.int(0) }).first {
                try addChange(ScheduledChange(entryID: id, state: .done, dueNS: due, firedNS: event.receivedNS, late: late))
            }
        }
    }
}

/// An `executions` row with the sequence number the writer gave it.
struct SequencedExecution {
    let sequence: Int64
    let row: ExecutionInsert
}

/// The number of the link a writer is writing, shared with its statements' bind closures.
// @unchecked Sendable: read and written only on the writer thread.
final class CurrentLink: @unchecked Sendable {
    var number: Int64 = 0
}
