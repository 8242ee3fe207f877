import Foundation
import Synchronization
import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords
import Testing

@testable import SymphonyStore

/// A history with rows in every chained table, written over two store sessions (so several links),
/// and the tampering an attacker with the file (but not the key) could do to it.
struct ChainedHistory {
    let key = try! EncryptionKey(bytes: [UInt8](repeating: 3, count: 32))
    let directory: String
    var path: String { directory + "/history.db" }

    init() throws {
        directory = NSTemporaryDirectory() + "symphony-chain-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// One session: an input event with two actions (one deriving an event), an audit record, a
    /// rejected line, a delay saved and another fired and handled, each in its own commit.
    func writeSession(_ tag: String) throws {
        let store = try HistoryStore(path: path, key: key)
        let input = Event(type: "ticket.created", payload: ["n": .string(tag)], id: "in-\(tag)")
        store.recordInput(input)
        let now = Timestamp(secondsSinceEpoch: 100)
        let derived = Event(type: "billing.refund", payload: ["order": 7], id: "d-\(tag)", causation: Causation(parentID: input.id, rule: "r", hop: 1))
        store.record(
            [
                ExecutionRecord(
                    eventID: input.id, eventType: input.type, rule: "r", kind: .publish, outcome: .ok, started: now, finished: now, derivedEvent: derived),
                ExecutionRecord(
                    eventID: input.id, eventType: input.type, rule: "r", kind: .audit, outcome: .ok, message: "refund for \(tag)", started: now,
                    finished: now),
            ], audits: [])
        try store.flush()
        store.audit(AuditRecord(principal: "user:ada", operation: "rules.load", target: "rules/\(tag)", outcome: "ok", details: "2 rules"))
        store.recordRejected(source: "input", line: 3, reason: "not JSON", content: Array("garbage \(tag)".utf8))
        try store.flush()
        let later = ScheduledEntry(
            id: ScheduleID(rawValue: "s-later-\(tag)"), event: Event(type: "reminder", id: "r-later-\(tag)"), due: Timestamp(secondsSinceEpoch: 9_000))
        let soon = ScheduledEntry(
            id: ScheduleID(rawValue: "s-soon-\(tag)"), event: Event(type: "reminder", id: "r-soon-\(tag)"), due: Timestamp(secondsSinceEpoch: 200))
        try store.scheduledEntries.save(later)
        try store.scheduledEntries.save(soon)
        try store.flush()
        let fired = FiredEntry(id: soon.id, eventID: soon.event.id, due: soon.due, firedAt: Timestamp(secondsSinceEpoch: 201))
        store.record(
            [ExecutionRecord(eventID: soon.event.id, eventType: "reminder", rule: "remind", kind: .emit, outcome: .ok, started: now, finished: now)], audits: [],
            completing: (fired, soon.event))
        try store.close()
    }

    func verify(checkpoint: HistoryCheckpoint? = nil) throws -> AuditVerification {
        try AuditReader(path: path).verify(key: key, checkpoint: checkpoint)
    }

    /// Runs SQL on the database with the append-only triggers removed, as an attacker with the file would.
    func tamper(_ sql: String) throws {
        let database = try SQLiteDatabase(path: path)
        try database.execute(
            "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; DROP TRIGGER IF EXISTS chain_no_update; DROP TRIGGER IF EXISTS chain_no_delete; "
                + sql)
    }

    /// Records an issue — `what`, then the verifier's answer — unless the history verifies.
    func expectIntact(_ what: String = "the chain does not verify", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try verify()
        guard case .intact = result else {
            Issue.record("\(what): \(result)", sourceLocation: sourceLocation)
            return
        }
    }

    /// The history writer's statements on a new database of the current schema (only its genesis link written).
    func newWriter() throws -> (database: SQLiteDatabase, statements: WriterStatements) {
        try HistoryStore(path: path, key: key).close()
        let database = try SQLiteDatabase(path: path)
        return (database, try WriterStatements(database: database, key: key))
    }

    func count(_ sql: String) throws -> Int64 {
        try SQLiteDatabase(path: path).prepare(sql).rows { $0.int(0) }[0]
    }
}

@Suite(.timeLimit(.minutes(12))) struct HistoryChainTests {
    @Test("a commit that prunes every earlier link keeps what it stores: a fired delayed event whose stored row the prune removed, and an event added twice")
    func pruneInTheSameCommit() throws {
        let history = try ChainedHistory()
        let made = Timestamp.now()
        let delayed = Event(type: "reminder", id: "d-1", time: made, causation: Causation(parentID: "in-1", rule: "r", hop: 1))
        let entry = ScheduledEntry(id: ScheduleID(rawValue: "s-1"), event: delayed, due: made)
        do {
            let store = try HistoryStore(path: history.path, key: history.key)
            store.recordInput(Event(type: "ticket.created", id: "in-1"))
            try store.scheduledEntries.save(entry)
            store.record(
                [
                    ExecutionRecord(
                        eventID: "in-1", eventType: "ticket.created", rule: "r", kind: .delay, outcome: .ok, started: made, finished: made,
                        derivedEvent: delayed)
                ], audits: [])
            try store.close()
        }
        // One commit, written directly: the delayed event fires (its row is in an earlier link, so
        // it is not stored again), then a prune removes every earlier link, then an input event is
        // added twice (stored once).
        let database = try SQLiteDatabase(path: history.path)
        let statements = try WriterStatements(database: database, key: history.key)
        let input = Event(type: "ticket.created", id: "in-2")
        try statements.writeBatch([
            .scheduledFired(id: entry.id.rawValue, event: EventInsert(delayed, received: Timestamp.now(), payload: nil), late: false),
            .prune(PruneRequest(cut: Timestamp.now().advanced(by: .seconds(1)), principal: "test", reason: "", maxRows: nil, report: { _ in })),
            .event(EventInsert(input, received: Timestamp.now(), payload: nil)),
            .event(EventInsert(input, received: Timestamp.now(), payload: nil)),
        ])
        #expect(try history.count("SELECT count(*) FROM events WHERE id = 'd-1'") == 1)
        #expect(try history.count("SELECT count(*) FROM events WHERE id = 'in-2'") == 1)
        #expect(try history.count("SELECT count(*) FROM events WHERE id = 'in-1'") == 0)
        try history.expectIntact()
    }

    @Test("an event is stored once per commit: a delayed event fired before the execution that made it is recorded, an input event read twice")
    func eventsAddedOncePerCommit() throws {
        let history = try ChainedHistory()
        let (_, statements) = try history.newWriter()
        let made = Timestamp(secondsSinceEpoch: 100)
        let input = Event(type: "ticket.created", id: "in-1")
        let delayed = Event(type: "reminder", id: "d-1", time: made, causation: Causation(parentID: input.id, rule: "r", hop: 1))
        let delay = ExecutionRecord(
            eventID: input.id, eventType: input.type, rule: "r", kind: .delay, outcome: .ok, started: made, finished: made, derivedEvent: delayed)
        // A second worker handled the fired event and recorded it before the first recorded the delay.
        try statements.writeBatch([
            .event(EventInsert(input, received: made, payload: [1])),
            .scheduledFired(id: "s-1", event: EventInsert(delayed, received: Timestamp(secondsSinceEpoch: 300), payload: [2]), late: false),
            .execution(ExecutionInsert(delay, sealedDerived: [3])),
            .event(EventInsert(input, received: Timestamp(secondsSinceEpoch: 200), payload: [4])),
        ])
        #expect(try history.count("SELECT count(*) FROM events") == 2)
        #expect(try history.count("SELECT count(*) FROM executions WHERE derived_event_id = 'd-1'") == 1)
        // The first row of each wins, as an ignored insert would have it.
        #expect(try history.count("SELECT received_ns FROM events WHERE id = 'd-1'") == Timestamp(secondsSinceEpoch: 300).nanosecondsSinceEpoch)
        #expect(try history.count("SELECT received_ns FROM events WHERE id = 'in-1'") == made.nanosecondsSinceEpoch)
        try history.expectIntact()
        // In a later commit the input event is there already: its insert is ignored, and the link covers what was written.
        try statements.writeBatch([
            .event(EventInsert(input, received: Timestamp(secondsSinceEpoch: 400), payload: [5])),
            .event(EventInsert(Event(type: "ticket.created", id: "in-2"), received: made, payload: [6])),
        ])
        #expect(try history.count("SELECT count(*) FROM events") == 3)
        #expect(try history.count("SELECT received_ns FROM events WHERE id = 'in-1'") == made.nanosecondsSinceEpoch)
        try history.expectIntact()
        // Ids are compared by their bytes, as the table's key compares them: two spellings of one name are two events.
        try statements.writeBatch([
            .event(EventInsert(Event(type: "ticket.created", id: "caf\u{E9}"), received: made, payload: [7])),
            .event(EventInsert(Event(type: "ticket.created", id: "cafe\u{301}"), received: made, payload: [8])),
        ])
        #expect(try history.count("SELECT count(*) FROM events WHERE id LIKE 'caf%'") == 2)
        try history.expectIntact()
    }

    @Test("an event whose insert a commit ignored (an earlier link held it) is stored again when a prune in the same commit removed that link")
    func eventAddedAgainAfterAPrune() throws {
        let history = try ChainedHistory()
        let (_, statements) = try history.newWriter()
        let made = Timestamp(secondsSinceEpoch: 100)
        let kept = Event(type: "ticket.created", id: "in-kept")
        try statements.writeBatch([.event(EventInsert(kept, received: made, payload: [1]))])
        // The same event again (its insert ignored: the link above holds it), then enough others to
        // send that insert to SQLite before the prune, which removes every earlier link.
        var rows: [HistoryRow] = [.event(EventInsert(kept, received: made, payload: [2]))]
        for index in 0..<40 { rows.append(.event(EventInsert(Event(type: "ticket.created", id: "in-\(index)"), received: made, payload: [3]))) }
        rows.append(.prune(PruneRequest(cut: Timestamp.now().advanced(by: .seconds(1)), principal: "test", reason: "", maxRows: nil, report: { _ in })))
        rows.append(.event(EventInsert(kept, received: made, payload: [4])))
        try statements.writeBatch(rows)
        #expect(try history.count("SELECT count(*) FROM events WHERE id = 'in-kept'") == 1)
        #expect(try history.count("SELECT count(*) FROM events") == 41)
        try history.expectIntact()
    }

    @Test("an entry stored and fired in one commit is inserted done: the same rows as stored in one commit and fired in the next; a cancel or a second firing in between keeps the update")
    func storedAsFired() throws {
        let history = try ChainedHistory()
        let (database, statements) = try history.newWriter()
        // Which entries the writer updates (on its own connection, so the trigger sees its writes).
        try database.execute(
            "CREATE TEMP TABLE updated (id TEXT); CREATE TEMP TRIGGER note_update AFTER UPDATE OF state ON main.scheduled BEGIN INSERT INTO updated VALUES (new.id); END")
        let due = Timestamp(secondsSinceEpoch: 100)
        func entry(_ name: String) -> (ScheduledInsert, EventInsert) {
            let event = Event(type: "reminder", id: "e-" + name, time: due)
            let insert = ScheduledInsert(
                id: "s-" + name, dueNS: due.nanosecondsSinceEpoch, intervalNS: nil, eventID: event.id, eventType: event.type, priority: 5, originRule: "r",
                envelope: [1, 2, 3], key: nil)
            return (insert, EventInsert(event, received: Timestamp(secondsSinceEpoch: 130), payload: nil))
        }
        let (one, oneEvent) = entry("one")  // stored and fired in one commit
        let (two, twoEvent) = entry("two")  // stored, then fired in the next commit
        let (cancelled, cancelledEvent) = entry("cancelled")  // stored, cancelled, then fired: stays cancelled
        let (twice, twiceEvent) = entry("twice")  // stored and fired twice in one commit
        try statements.writeBatch([
            .scheduledSave(one), .scheduledSave(two), .scheduledSave(cancelled), .scheduledSave(twice),
            .scheduledFired(id: one.id, event: oneEvent, late: true),
            .scheduledCancel(id: cancelled.id), .scheduledFired(id: cancelled.id, event: cancelledEvent, late: false),
            .scheduledFired(id: twice.id, event: twiceEvent, late: false), .scheduledFired(id: twice.id, event: twiceEvent, late: false),
        ])
        try statements.writeBatch([.scheduledFired(id: two.id, event: twoEvent, late: true)])
        func row(_ id: String) throws -> [String] {
            try database.prepare("SELECT state, due_ns, fired_ns, late, envelope = x'010203' FROM scheduled WHERE id = '\(id)'").rows { row in
                (Int32(0)..<5).map { row.isNull($0) ? "NULL" : row.text($0) ?? "?" }
            }.first ?? []
        }
        func changes(_ id: String) throws -> [[Int64?]] {
            try database.prepare("SELECT state, due_ns, fired_ns, late FROM scheduled_changes WHERE entry_id = '\(id)' ORDER BY seq").rows { row in
                [row.int(0), row.int(1), row.isNull(2) ? nil : row.int(2), row.int(3)]
            }
        }
        // The entry stored and fired in one commit was inserted done; the others were updated.
        #expect(try database.prepare("SELECT DISTINCT id FROM temp.updated ORDER BY id").rows { $0.text(0) ?? "" } == ["s-cancelled", "s-twice", "s-two"])
        #expect(try row("s-one") == row("s-two"))
        #expect(try row("s-one").first == "done")
        #expect(try changes("s-one") == changes("s-two"))
        #expect(try changes("s-one").map { $0[0] } == [0, 1])
        #expect(try row("s-cancelled").first == "cancelled")
        #expect(try changes("s-cancelled").map { $0[0] } == [0, 2])
        #expect(try row("s-twice").first == "done")
        #expect(try changes("s-twice").map { $0[0] } == [0, 1])
        try history.expectIntact()
    }

    @Test("a delayed event fired in the commit that stores it with its delay, or in a later one, is stored once, as the delay stored it")
    func firedDelaysStoredOnce() throws {
        let history = try ChainedHistory()
        let store = try HistoryStore(path: history.path, key: history.key)
        let input = Event(type: "ticket.created", id: "in-1")
        store.recordInput(input)
        let made = Timestamp(secondsSinceEpoch: 100)
        func delay(_ id: String) throws -> (Event, FiredEntry) {
            let delayed = Event(type: "reminder", id: id, time: made, causation: Causation(parentID: input.id, rule: "r", hop: 1))
            let entry = ScheduledEntry(id: ScheduleID(rawValue: "s-" + id), event: delayed, due: made)
            try store.scheduledEntries.save(entry)
            store.record(
                [
                    ExecutionRecord(
                        eventID: input.id, eventType: input.type, rule: "r", kind: .delay, outcome: .ok, started: made, finished: made, derivedEvent: delayed)
                ], audits: [])
            return (delayed, FiredEntry(id: entry.id, eventID: id, due: made, firedAt: Timestamp(secondsSinceEpoch: 300)))
        }
        func fire(_ delayed: Event, _ fired: FiredEntry) {
            store.record(
                [ExecutionRecord(eventID: delayed.id, eventType: "reminder", rule: "remind", kind: .audit, outcome: .ok, started: made, finished: made)],
                audits: [], completing: (fired, delayed))
        }
        let (same, sameFired) = try delay("d-same")
        fire(same, sameFired)  // the same commit
        try store.flush()
        let (later, laterFired) = try delay("d-later")
        try store.flush()
        fire(later, laterFired)  // a later commit
        // Fired without its delay recorded (a delay made before history was kept): stored when it fires.
        let orphan = Event(type: "reminder", id: "d-orphan", time: made)
        let orphanEntry = ScheduledEntry(id: ScheduleID(rawValue: "s-orphan"), event: orphan, due: made)
        try store.scheduledEntries.save(orphanEntry)
        try store.flush()
        fire(orphan, FiredEntry(id: orphanEntry.id, eventID: orphan.id, due: made, firedAt: Timestamp(secondsSinceEpoch: 300)))
        try store.close()
        for id in ["d-same", "d-later", "d-orphan"] {
            #expect(try history.count("SELECT count(*) FROM events WHERE id = '\(id)'") == 1, "\(id)")
        }
        // The delayed ones keep the row their delay stored (received when the delay was made), the orphan the fired one.
        #expect(try history.count("SELECT count(*) FROM events WHERE id IN ('d-same', 'd-later') AND received_ns = \(made.nanosecondsSinceEpoch)") == 2)
        #expect(try history.count("SELECT received_ns FROM events WHERE id = 'd-orphan'") == Timestamp(secondsSinceEpoch: 300).nanosecondsSinceEpoch)
        #expect(try history.count("SELECT count(*) FROM scheduled WHERE state = 'done'") == 3)
        try history.expectIntact()
    }

    @Test("an untouched history verifies: one link per commit across sessions, covering every row")
    func intact() throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        try history.writeSession("b")
        let links = try history.count("SELECT count(*) FROM chain")
        let rows = try history.count(
            "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM executions) + (SELECT count(*) FROM scheduled) + (SELECT count(*) FROM scheduled_changes) + (SELECT count(*) FROM dead_letters) + (SELECT count(*) FROM audit)"
        )
        #expect(try history.verify() == .intact(links: Int(links), rows: Int(rows)))
        #expect(links >= 9)  // the genesis link and at least four commits per session
        #expect(try history.count("SELECT count(*) FROM events WHERE link IS NULL") == 0)
        #expect(try history.count("SELECT count(*) FROM executions WHERE message = 'refund for a'") == 1)
    }

    /// One way to tamper with a table, and the SQL that does it.
    struct Tampering: CustomTestStringConvertible, Sendable {
        let table: String
        let what: String
        let sql: String
        var testDescription: String { "\(what) row of \(table)" }
    }

    static let tamperings: [Tampering] = [
        // events (a rowid table): edit, delete, insert, and move a row to the end (reorder).
        Tampering(table: "events", what: "an edited", sql: "UPDATE events SET type = 'forged' WHERE id = 'd-a'"),
        Tampering(table: "events", what: "a deleted", sql: "DELETE FROM events WHERE id = 'in-a'"),
        Tampering(table: "events", what: "a retyped (text stored as a blob of the same bytes)", sql: "UPDATE events SET id = CAST(id AS BLOB) WHERE id = 'd-a'"),
        Tampering(table: "events", what: "a retyped (integer stored as a real)", sql: "UPDATE events SET priority = priority + 0.25 WHERE id = 'd-a'"),
        Tampering(
            table: "events", what: "an inserted",
            sql: "INSERT INTO events (link, id, type, priority, received_ns, time_ns, hop) VALUES ((SELECT MAX(seq) FROM chain), 'forged', 't', 5, 0, 0, 0)"),
        Tampering(
            table: "events", what: "a reordered",
            sql: "CREATE TEMP TABLE moved AS SELECT * FROM events WHERE id = 'in-a'; DELETE FROM events WHERE id = 'in-a'; INSERT INTO events SELECT * FROM moved"),
        // executions (sequence-numbered): edit, delete, insert, swap two rows' positions.
        Tampering(table: "executions", what: "an edited", sql: "UPDATE executions SET outcome = 1 WHERE seq = 1"),
        Tampering(table: "executions", what: "a deleted", sql: "DELETE FROM executions WHERE seq = 2"),
        Tampering(
            table: "executions", what: "an inserted",
            sql:
                "INSERT INTO executions (link, event_id, rule, kind, outcome, started_ns, duration_us) VALUES ((SELECT MAX(seq) FROM chain), 'x', 'r', 1, 0, 0, 0)"),
        Tampering(
            table: "executions", what: "a reordered",
            sql: "UPDATE executions SET seq = -1 WHERE seq = 1; UPDATE executions SET seq = 1 WHERE seq = 2; UPDATE executions SET seq = 2 WHERE seq = -1"),
        // scheduled entries and their changes.
        Tampering(table: "scheduled", what: "an edited", sql: "UPDATE scheduled SET event_type = 'forged' WHERE id = 's-later-a'"),
        Tampering(table: "scheduled", what: "an edited state of a", sql: "UPDATE scheduled SET state = 'cancelled' WHERE id = 's-later-b'"),
        Tampering(table: "scheduled", what: "a deleted", sql: "DELETE FROM scheduled WHERE id = 's-soon-b'"),
        Tampering(
            table: "scheduled", what: "an inserted",
            sql:
                "INSERT INTO scheduled (id, link, due_ns, event_id, event_type, priority, state, envelope) VALUES ('forged', (SELECT MAX(seq) FROM chain), 0, 'e', 't', 5, 'pending', x'00')"
        ),
        Tampering(
            table: "scheduled", what: "a reordered",
            sql:
                "CREATE TEMP TABLE moved AS SELECT * FROM scheduled WHERE id = 's-later-a'; DELETE FROM scheduled WHERE id = 's-later-a'; INSERT INTO scheduled SELECT * FROM moved"
        ),
        Tampering(table: "scheduled_changes", what: "an edited", sql: "UPDATE scheduled_changes SET fired_ns = 1 WHERE state = 1 AND entry_id = 's-soon-a'"),
        Tampering(table: "scheduled_changes", what: "a deleted", sql: "DELETE FROM scheduled_changes WHERE entry_id = 's-soon-a' AND state = 1"),
        Tampering(
            table: "scheduled_changes", what: "a reordered",
            sql:
                "UPDATE scheduled_changes SET seq = -1 WHERE seq = 1; UPDATE scheduled_changes SET seq = 1 WHERE seq = 2; UPDATE scheduled_changes SET seq = 2 WHERE seq = -1"
        ),
        // dead letters.
        Tampering(table: "dead_letters", what: "an edited", sql: "UPDATE dead_letters SET reason = 'fine' WHERE seq = 1"),
        Tampering(table: "dead_letters", what: "a deleted", sql: "DELETE FROM dead_letters WHERE seq = 2"),
        Tampering(
            table: "dead_letters", what: "an inserted",
            sql: "INSERT INTO dead_letters (link, source, reason, received_ns) VALUES ((SELECT MAX(seq) FROM chain), 'x', 'y', 0)"),
        Tampering(
            table: "dead_letters", what: "a reordered",
            sql: "UPDATE dead_letters SET seq = -1 WHERE seq = 1; UPDATE dead_letters SET seq = 1 WHERE seq = 2; UPDATE dead_letters SET seq = 2 WHERE seq = -1"),
        // audit records.
        Tampering(table: "audit", what: "an edited", sql: "UPDATE audit SET outcome = 'denied' WHERE seq = 1"),
        Tampering(table: "audit", what: "a deleted", sql: "DELETE FROM audit WHERE seq = 1"),
        Tampering(
            table: "audit", what: "an inserted",
            sql:
                "INSERT INTO audit (link, time_ns, principal, operation, target, outcome, details, prev_hash, hash) VALUES ((SELECT MAX(seq) FROM chain), 0, 'p', 'o', 't', 'ok', '', x'', x'')"
        ),
        Tampering(
            table: "audit", what: "a reordered", sql: "UPDATE audit SET seq = -1 WHERE seq = 1; UPDATE audit SET seq = 1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = -1"),
    ]

    @Test("any edited, deleted, inserted or reordered row of any chained table is named", arguments: tamperings)
    func tampered(_ tampering: Tampering) throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        try history.writeSession("b")
        try history.tamper(tampering.sql)
        guard case .broken(_, let problem) = try history.verify() else {
            Issue.record("\(tampering.testDescription) went unnoticed")
            return
        }
        let named = tampering.table == "scheduled_changes" ? "scheduled" : tampering.table
        #expect(problem.contains(named), "\(problem)")
        // A store refuses to extend a history whose operations or chain were tampered with; for
        // other tables the next writer appends, and verify keeps naming the damage.
        if tampering.table == "audit" {
            #expect(throws: StoreError.self) { try HistoryStore(path: history.path, key: history.key) }
        }
        #expect(try { if case .broken = try history.verify() { true } else { false } }())
    }

    @Test("links cut from the end are caught by the authenticated head; a removed middle link breaks the chain")
    func truncated() throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        let last = try history.count("SELECT MAX(seq) FROM chain")
        try history.tamper("DELETE FROM chain WHERE seq = \(last)")
        #expect(
            try history.verify()
                == .broken(
                    sequence: last - 1, problem: "links \(last)…\(last) were removed (the head says the chain ends at link \(last), the table at \(last - 1))"))
        #expect(throws: StoreError.self) { try HistoryStore(path: history.path, key: history.key) }

        let other = try ChainedHistory()
        try other.writeSession("a")
        try other.tamper("DELETE FROM chain WHERE seq = 2")
        #expect(try other.verify() == .broken(sequence: 2, problem: "link 2 is missing (the chain jumps from 1 to 3)"))
    }

    @Test("an erased chain is named, and no store writes a fresh one over it")
    func erased() throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        try history.tamper("DELETE FROM chain; DELETE FROM chain_head; DELETE FROM audit")
        guard case .broken(_, let problem) = try history.verify() else {
            Issue.record("an erased chain verified")
            return
        }
        #expect(problem.contains("no genesis link"))
        #expect(throws: StoreError.self) { try HistoryStore(path: history.path, key: history.key) }
    }

    @Test("a forged head, or one under a key not given, is refused")
    func forgedHead() throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        try history.tamper("UPDATE chain_head SET mac = zeroblob(32)")
        #expect(try history.verify() == .broken(sequence: try history.count("SELECT MAX(seq) FROM chain"), problem: "the head's MAC does not verify under key \(history.key.idString) (a forged head)"))
        let other = try EncryptionKey(bytes: [UInt8](repeating: 4, count: 32))
        #expect(throws: StoreError.self) { try HistoryStore(path: history.path, key: other) }
    }

    @Test("a checkpoint catches a rollback to an older copy and a history erased and started afresh")
    func checkpoints() throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        let copy = history.directory + "/copy.db"
        try FileManager.default.copyItem(atPath: history.path, toPath: copy)
        try history.writeSession("b")
        let checkpoint = try #require(try AuditReader(path: history.path).checkpoint(key: history.key))
        #expect(HistoryCheckpoint(text: checkpoint.text) == checkpoint)
        guard case .intact = try history.verify(checkpoint: checkpoint) else {
            Issue.record("the current history does not contain its own checkpoint")
            return
        }
        // Rolled back to the copy: the chain is intact by itself, but shorter than the checkpoint.
        try FileManager.default.removeItem(atPath: history.path)
        try FileManager.default.copyItem(atPath: copy, toPath: history.path)
        guard case .intact = try history.verify() else {
            Issue.record("the older copy should verify by itself")
            return
        }
        guard case .broken(_, let rolledBack) = try history.verify(checkpoint: checkpoint) else {
            Issue.record("a rollback went unnoticed")
            return
        }
        #expect(rolledBack.contains("rolled back"))
        // Erased and started afresh: another database id.
        try FileManager.default.removeItem(atPath: history.path)
        try history.writeSession("c")
        guard case .broken(_, let fresh) = try history.verify(checkpoint: checkpoint) else {
            Issue.record("a fresh start went unnoticed")
            return
        }
        #expect(fresh.contains("started afresh"))
        // A checkpoint whose MAC does not verify is refused.
        let forged = try #require(HistoryCheckpoint(text: checkpoint.text.replacingOccurrences(of: " \(checkpoint.sequence) ", with: " 1 ")))
        guard case .broken(_, let altered) = try history.verify(checkpoint: forged) else {
            Issue.record("an altered checkpoint was accepted")
            return
        }
        #expect(altered.contains("altered"))
        #expect(HistoryCheckpoint(text: "not a checkpoint") == nil)
    }

    @Test("a batch that cannot be written is rolled back whole, and later batches chain on")
    func failedBatchRollsBack() throws {
        let history = try ChainedHistory()
        let store = try HistoryStore(path: history.path, key: history.key)
        store.audit(AuditRecord(principal: "user:ada", operation: "before", target: "t", outcome: "ok"))
        try store.flush()
        try SQLiteDatabase(path: history.path).execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON executions WHEN NEW.rule = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END")
        // A row the database refuses, handed over with an audit record in one hand-off (so in one batch).
        let now = Timestamp(secondsSinceEpoch: 1)
        store.record(
            [ExecutionRecord(eventID: "e-1", eventType: "t", rule: "boom", kind: .publish, outcome: .ok, started: now, finished: now, derivedEvent: Event(type: "d", id: "d-1"))],
            audits: [AuditRecord(principal: "user:ada", operation: "with-the-bad-row", target: "t", outcome: "ok")])
        #expect(throws: StoreError.self) { try store.flush() }
        try SQLiteDatabase(path: history.path).execute("DROP TRIGGER refuse")
        store.audit(AuditRecord(principal: "user:ada", operation: "after", target: "t", outcome: "ok"))
        #expect(throws: StoreError.self) { try store.close() }  // the first failure is reported at close too
        let operations = try AuditReader(path: history.path).list(limit: 10).map(\.operation)
        #expect(operations == ["after", "before"])
        #expect(try history.count("SELECT count(*) FROM events WHERE id = 'd-1'") == 0)
        try history.expectIntact("the history does not verify after a failed batch")
    }

    @Test("two stores appending to one history keep one gapless chain")
    func twoWriters() throws {
        let history = try ChainedHistory()
        let first = try HistoryStore(path: history.path, key: history.key)
        first.audit(AuditRecord(principal: "a", operation: "op", target: "1", outcome: "ok"))
        try first.flush()
        let second = try HistoryStore(path: history.path, key: history.key)
        second.audit(AuditRecord(principal: "b", operation: "op", target: "2", outcome: "ok"))
        try second.close()
        first.audit(AuditRecord(principal: "a", operation: "op", target: "3", outcome: "ok"))
        try first.close()
        #expect(try history.verify() == .intact(links: 4, rows: 3))
        #expect(try AuditReader(path: history.path).list().map(\.target) == ["3", "2", "1"])
    }

    @Test("verify while a writer appends always finds the history intact (one snapshot)")
    func verifyDuringWrites() throws {
        let history = try ChainedHistory()
        let store = try HistoryStore(path: history.path, key: history.key)
        store.recordInput(Event(type: "t", id: "e-0"))
        try store.flush()
        let writing = Atomic<Bool>(true)
        let stopped = DispatchSemaphore(value: 0)
        let writer = Thread {
            var index = 1
            while writing.load(ordering: .relaxed) {
                store.recordInput(Event(type: "t", id: "e-\(index)"))
                try? store.flush()
                index += 1
            }
            stopped.signal()
        }
        writer.start()
        var verdicts: [AuditVerification] = []
        for _ in 0..<30 { verdicts.append(try history.verify()) }
        writing.store(false, ordering: .relaxed)
        #expect(stopped.wait(timeout: .now() + 300) == .success)
        try store.close()
        #expect(verdicts.allSatisfy { if case .intact = $0 { true } else { false } }, "\(verdicts)")
    }

    @Test("an event id repeated in one commit or a later one is stored once, and the chain covers what was stored")
    func repeatedEventIDs() throws {
        let history = try ChainedHistory()
        let store = try HistoryStore(path: history.path, key: history.key)
        store.recordInputs(
            [Event(type: "t", id: "same"), Event(type: "t", id: "other"), Event(type: "t", id: "same")], received: [.now(), .now(), .now()],
            sealed: [nil, nil, nil])
        try store.flush()
        store.recordInput(Event(type: "t", id: "same"))
        try store.close()
        #expect(try history.count("SELECT count(*) FROM events") == 2)
        try history.expectIntact("repeated ids broke the chain")
    }

    @Test("a periodic entry re-saved after it was cancelled stays cancelled, and the history verifies")
    func cancelledStaysCancelled() throws {
        let history = try ChainedHistory()
        let store = try HistoryStore(path: history.path, key: history.key)
        let entry = ScheduledEntry(
            id: ScheduleID(rawValue: "every"), event: Event(type: "tick", id: "tick-1"), due: Timestamp(secondsSinceEpoch: 100), interval: .seconds(60))
        try store.scheduledEntries.save(entry)
        try store.scheduledEntries.cancel(entry.id)
        // The scheduler moving the entry to its next due time, having checked it before the cancel.
        try store.scheduledEntries.save(
            ScheduledEntry(id: entry.id, event: entry.event, due: Timestamp(secondsSinceEpoch: 160), interval: .seconds(60)))
        try store.close()
        let reopened = try HistoryStore(path: history.path, key: history.key)
        #expect(try reopened.scheduledEntries.loadPending().isEmpty)
        try reopened.close()
        try history.expectIntact("the history does not verify")
    }

    @Test("text with U+0000 is stored and read back whole")
    func nulInText() throws {
        let history = try ChainedHistory()
        let store = try HistoryStore(path: history.path, key: history.key)
        store.audit(AuditRecord(principal: "p", operation: "op", target: "a\u{0}b", outcome: "ok"))
        try store.close()
        #expect(try AuditReader(path: history.path).list().map(\.target) == ["a\u{0}b"])
        try history.expectIntact("U+0000 broke the chain")
    }
}

/// Databases written before the chain (schema 5): their rows, and the audit records of one per
/// action with their own hash chain, are taken over by the genesis link.
@Suite(.timeLimit(.minutes(12))) struct HistoryChainMigrationTests {
    /// A schema-5 database with legacy rows: an event, an execution, and two chained audit records with their head.
    static func legacyDatabase(_ history: ChainedHistory) throws {
        let database = try SQLiteDatabase(path: history.path)
        try HistorySchema.migrate(database, to: 5)
        try database.execute(
            """
            INSERT INTO events (id, type, priority, received_ns, time_ns, hop) VALUES ('old-1', 'ticket.created', 5, 1, 1, 0);
            INSERT INTO executions (event_id, rule, action, outcome, started_ns, finished_ns, duration_us) VALUES ('old-1', 'r', 'publish', 'ok', 1, 2, 0);
            """)
        var previous = AuditChain.genesis
        for sequence in Int64(1)...2 {
            let record = AuditRecord(
                time: Timestamp(nanosecondsSinceEpoch: sequence), principal: "rules", operation: "action.publish", target: "x", outcome: "ok",
                details: "legacy \(sequence)", sequence: sequence)
            let hash = AuditChain.hash(record, after: previous)
            try database.prepare(
                "INSERT INTO audit (seq, time_ns, principal, operation, target, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ).run([.int(sequence), .int(sequence), .text("rules"), .text("action.publish"), .text("x"), .text("ok"), .text(record.details), .blob(previous), .blob(hash)])
            previous = hash
        }
        let mac = AuditChain.headMAC(sequence: 2, hash: previous, macKey: AuditChain.macKey(from: history.key))
        try database.prepare("INSERT INTO audit_head (id, seq, hash, key_id, mac) VALUES (1, 2, ?, ?, ?)").run([
            .blob(previous), .text(history.key.idString), .blob(mac),
        ])
    }

    @Test("migration 6 keeps every legacy row, covers them with the genesis link, and new commits chain on")
    func migrates() throws {
        let history = try ChainedHistory()
        try Self.legacyDatabase(history)
        try history.writeSession("new")
        guard case .intact = try history.verify() else {
            Issue.record("a migrated history does not verify")
            return
        }
        #expect(try history.count("SELECT count(*) FROM events WHERE link IS NULL") == 1)
        #expect(try history.count("SELECT count(*) FROM audit WHERE link IS NULL") == 2)
        #expect(try history.count("SELECT kind FROM executions WHERE event_id = 'old-1'") == ActionKind.publish.rawValue)
        let note = try SQLiteDatabase(path: history.path).prepare("SELECT note FROM chain WHERE seq = 1").rows { $0.text(0) ?? "" }[0]
        #expect(note.contains("legacy-audit-head 2 "))
    }

    @Test("an altered legacy audit record or legacy execution is named after the migration")
    func legacyTampering() throws {
        for sql in ["UPDATE audit SET details = 'forged' WHERE seq = 1", "UPDATE executions SET outcome = 2 WHERE event_id = 'old-1'"] {
            let history = try ChainedHistory()
            try Self.legacyDatabase(history)
            try history.writeSession("new")
            try history.tamper(sql)
            guard case .broken(let link, _) = try history.verify() else {
                Issue.record("'\(sql)' went unnoticed")
                continue
            }
            #expect(link == 1)
        }
    }
}

/// The audit chain of schema 5 and older (docs/reference/history-database.md's worked example, computed with Python's
/// hashlib and hmac): legacy records are still checked with it.
@Suite struct AuditChainVectorTests {
    static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    @Test("hash(0), hash(1), hash(2), the MAC key and the head MAC match the documented worked example")
    func workedExample() throws {
        let key = try EncryptionKey(bytes: Array(0...31))
        #expect(key.idString == "6ec9b70d")
        let first = AuditRecord(
            time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000), principal: "user:ada", operation: "rules.load",
            target: "rules/support", outcome: "ok", details: "3 rules, 0 intents", sequence: 1)
        let second = AuditRecord(
            time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_250_000_000), principal: "rule:support", operation: "action.publish",
            target: "alert.page", outcome: "ok", details: "rule triage, event t-1 (ticket.created) → e-2", sequence: 2)
        #expect(Self.hex(AuditChain.genesis) == "38532cb3e0c58e82b46e3a615efad2b70b442cb7ce5a2dee4270726f61838b16")
        let hash1 = AuditChain.hash(first, after: AuditChain.genesis)
        #expect(Self.hex(hash1) == "f6ba71eba565777236a58cf9b5ac744fba4560c35d4e445abd9ce95184584401")
        let hash2 = AuditChain.hash(second, after: hash1)
        #expect(Self.hex(hash2) == "73b19ef6c7eec5b06db4d7a32eb45dfa907e9964c197ddc27a3ecbc3b617da67")
        let macKey = AuditChain.macKey(from: key)
        #expect(Self.hex(macKey) == "6f8a47bf044d8f9c5b3f29f93daa8d8aa27b64d0880be2e634da64f2c1b646df")
        #expect(Self.hex(AuditChain.headMAC(sequence: 2, hash: hash2, macKey: macKey)) == "8500f7e3d66cb4a2893a186fc4c1e8d63d91595e8a6d84f15dfcf0293c9b495d")
    }
}

/// The canonical encoding of `events` rows (docs/reference/history-database.md, "Canonical row
/// encoding"), computed independently with Python from the documented format: what every
/// history written since schema 4 holds its event rows' digests over.
@Suite struct EventRowEncodingVectorTests {
    @Test("an input event's row and a derived event's row encode, and digest, as documented")
    func eventRows() {
        let input = EventInsert(
            id: "e-1", type: "ticket.created", priority: 3, source: "desk", receivedNS: 1_700_000_000_000_000_001,
            timeNS: 1_700_000_000_000_000_000, parentID: nil, rule: nil, hop: 0, payload: [1, 2, 3])
        let derived = EventInsert(
            id: "e-2", type: "ticket.escalated", priority: 1, source: nil, receivedNS: 5, timeNS: -7, parentID: "e-1", rule: "escalate ü",
            hop: 2, payload: nil)
        #expect(
            Hex.encode(input.encoded)
                == "0200000003652d31020000000e7469636b65742e6372656174656401000000000000000302000000046465736b0117979cfe362a0001"
                + "0117979cfe362a000000000100000000000000000300000003010203")
        #expect(
            Hex.encode(derived.encoded)
                == "0200000003652d3202000000107469636b65742e657363616c617465640100000000000000010001000000000000000501ffffffff"
                + "fffffff90200000003652d31020000000b657363616c61746520c3bc01000000000000000200")
        var encoding = ChainRowEncoding()
        encoding.append(encoded: input.encoded)  // as the writer digests its rows
        encoding.append(encoded: derived.encoded)
        #expect(Hex.encode(encoding.digest) == "95b3c80abf0482c7082a55b8203a539dcc93511804ba645576382ed0d61577c9")
    }
}
