import Foundation
import SymphonyCrypto
import SymphonyEvents
import SymphonyConcurrency
import Testing
@testable import SymphonyStore
import SymphonyRecords
import SymphonyJSON

@Suite(.timeLimit(.minutes(12))) struct HistoryStoreTests {
    let key: EncryptionKey
    let directory: String

    init() throws {
        key = try EncryptionKey(bytes: [UInt8](repeating: 9, count: 32))
        directory = NSTemporaryDirectory() + "symphony-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var path: String { directory + "/history.db" }

    func store() throws -> HistoryStore { try HistoryStore(path: path, key: key) }

    func execution(_ event: Event, rule: String, action: String = "publish", status: String = "ok", derived: Event? = nil, at seconds: Int64 = 100, micros: Int64 = 10) -> ExecutionRecord {
        let started = Timestamp(secondsSinceEpoch: seconds)
        return ExecutionRecord(
            eventID: event.id, eventType: event.type, rule: rule, kind: ActionKind(name: action)!, outcome: ExecutionOutcome(name: status)!,
            error: status == "failed" ? "boom" : nil,
            started: started, finished: started.advanced(by: .microseconds(micros)), derivedEvent: derived)
    }

    @Test("a new file is migrated to the current schema version, in WAL mode")
    func migrationFromEmpty() throws {
        let store = try store()
        try store.close()
        let database = try SQLiteDatabase(path: path)
        #expect(try database.userVersion == HistorySchema.currentVersion)
        let mode = try database.prepare("PRAGMA journal_mode").rows { $0.text(0) }
        #expect(mode == ["wal"])
    }

    @Test("a database from before the chain (schema 5) is migrated and keeps its rows")
    func migrationFromPrevious() throws {
        do {
            let database = try SQLiteDatabase(path: path)
            try HistorySchema.migrate(database, to: HistorySchema.chainStep - 1)
            #expect(try database.userVersion == HistorySchema.chainStep - 1)
            try database.prepare("INSERT INTO executions (event_id, rule, action, outcome, started_ns, finished_ns, duration_us) VALUES ('e-old', 'r', 'emit', 'denied', 1, 2, 0)").run()
        }
        let store = try store()
        try store.close()
        let reader = try HistoryReader(path: path, sealer: nil)
        let rows = try reader.executions(HistoryQuery())
        #expect(rows.map(\.eventID) == ["e-old"])
        #expect(rows.map(\.action) == ["emit"])
        #expect(rows.map(\.outcome) == ["denied"])
        let database = try SQLiteDatabase(path: path)
        #expect(try database.userVersion == HistorySchema.currentVersion)
        #expect(try database.prepare("SELECT count(*) FROM dead_letters").rows { $0.int(0) } == [0])
        let indexes = try database.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").rows { $0.text(0) ?? "" }
        #expect(indexes == ["executions_event", "outbox_event", "outbox_state", "scheduled_pending"])
        #expect(try database.prepare("SELECT action, outcome FROM execution_log").rows { [$0.text(0) ?? "", $0.text(1) ?? ""] } == [["emit", "denied"]])
    }

    @Test("schema 6 gains the keys of keyed delays and the cancel action; its chain still verifies, and keyed rows are chained")
    func migrationToKeyedDelays() throws {
        do {
            let database = try SQLiteDatabase(path: path)
            try HistorySchema.migrate(database, to: 6, genesis: { try HistoryStore.writeGenesisLink(in: $0, key: key) })
            #expect(try !database.hasColumn("key", in: "scheduled"))
        }
        let store = try store()
        try store.scheduledEntries.save(ScheduledEntry(id: ScheduleID(rawValue: "s-keyed"), event: Event(type: "remind", id: "r-1"), due: .now(), key: "pr-7"))
        try store.close()
        let database = try SQLiteDatabase(path: path)
        #expect(try database.userVersion == HistorySchema.currentVersion)
        #expect(try database.prepare("SELECT name FROM action_kinds WHERE code = 6").rows { $0.text(0) ?? "" } == ["cancel"])
        #expect(try store.scheduledEntries.loadPending().map(\.key) == ["pr-7"])
        func intact() throws -> Bool { if case .intact = try AuditReader(path: path).verify(key: key) { true } else { false } }
        #expect(try intact())
        // The key is chained: changing it, or clearing it, breaks the link that wrote it.
        try database.execute("UPDATE scheduled SET key = 'pr-8' WHERE id = 's-keyed'")
        #expect(try !intact())
        try database.execute("UPDATE scheduled SET key = NULL WHERE id = 's-keyed'")
        #expect(try !intact())
        try database.execute("UPDATE scheduled SET key = 'pr-7' WHERE id = 's-keyed'")
        #expect(try intact())
    }

    @Test("two pending entries with one key (a crash between storing a replacement and cancelling the replaced): a start keeps the later and cancels the earlier")
    func duplicateKeysAtStart() throws {
        do {
            let store = try store()
            let clock = ManualClock()
            for (id, due) in [("s-old", 120), ("s-new", 60)] {
                try store.scheduledEntries.save(
                    ScheduledEntry(id: ScheduleID(rawValue: id), event: Event(type: "remind", id: "e-\(id)"), due: clock.now().advanced(by: .seconds(Int64(due))), key: "pr-1"))
            }
            try store.close()
        }
        let store = try store()
        let scheduler = Scheduler(clock: ManualClock(), store: store.scheduledEntries) { _ in }
        try scheduler.start()
        #expect(scheduler.pending.map(\.id.rawValue) == ["s-new"])
        scheduler.stop()
        try store.close()
        #expect(try store.scheduledEntries.loadPending().map(\.id.rawValue) == ["s-new"])
    }

    @Test("every migration applies in order from version 1, each in its own step")
    func migrationFromEachVersion() throws {
        for start in 1..<HistorySchema.currentVersion {
            let path = directory + "/from-\(start).db"
            let database = try SQLiteDatabase(path: path)
            try HistorySchema.migrate(database, to: start)
            try HistorySchema.migrate(database)
            #expect(try database.userVersion == HistorySchema.currentVersion)
        }
    }

    @Test("a database from a newer build is refused with a clear error")
    func newerSchemaRefused() throws {
        do {
            let database = try SQLiteDatabase(path: path)
            try database.execute("PRAGMA user_version = 99")
        }
        let error = #expect(throws: StoreError.self) { try store() }
        #expect(error?.message == "The database '\(path)' has schema version 99, newer than this build's \(HistorySchema.currentVersion); upgrade Symphony.")
    }

    @Test("a negative schema version (not written by any Symphony) is refused with a clear error, not a crash")
    func negativeSchemaRefused() throws {
        do {
            let database = try SQLiteDatabase(path: path)
            try database.execute("PRAGMA user_version = -1")
        }
        let error = #expect(throws: StoreError.self) { try store() }
        #expect(error?.message == "The database '\(path)' has schema version -1, which no Symphony writes: it is not a history database, or it was altered.")
    }

    @Test("every filter, and most recent first")
    func filters() throws {
        let store = try store()
        let ticket = Event(type: "ticket.created", payload: ["text": "hello"], id: "t-1")
        let ssh = Event(type: "ssh.login.failed", id: "s-1")
        store.recordInput(ticket)
        store.recordInput(ssh)
        store.record(execution(ticket, rule: "triage", at: 100))
        store.record(execution(ticket, rule: "audit-all", action: "audit", at: 200))
        store.record(execution(ssh, rule: "security", status: "failed", at: 300))
        store.record(execution(ssh, rule: "audit-all", action: "audit", status: "denied", at: 400))
        try store.close()
        let reader = try HistoryReader(path: path, sealer: nil)
        func rules(_ configure: (inout HistoryQuery) throws -> Void) throws -> [String] {
            var query = HistoryQuery()
            try configure(&query)
            return try reader.executions(query).map(\.rule)
        }
        #expect(try rules { _ in } == ["audit-all", "security", "audit-all", "triage"])
        #expect(try rules { $0.rule = "audit-all" } == ["audit-all", "audit-all"])
        #expect(try rules { $0.type = try TypePattern("ticket.created") } == ["audit-all", "triage"])
        #expect(try rules { $0.type = try TypePattern("ssh.**") } == ["audit-all", "security"])
        #expect(try rules { $0.outcome = "failed" } == ["security"])
        #expect(try rules { $0.outcome = "denied" } == ["audit-all"])
        #expect(try rules { $0.since = Timestamp(secondsSinceEpoch: 200) } == ["audit-all", "security", "audit-all"])
        #expect(try rules { $0.until = Timestamp(secondsSinceEpoch: 200) } == ["triage"])
        #expect(try rules { $0.eventID = "s-1" } == ["audit-all", "security"])
        #expect(try rules { $0.limit = 1 } == ["audit-all"])
        #expect(try reader.executions(HistoryQuery()).first { $0.outcome == "failed" }?.error == "boom")
    }

    @Test("stats count executions per rule, action and outcome, with p50/p95 durations and the distinct events each rule acted on")
    func stats() throws {
        let store = try store()
        let event = Event(type: "a.b", id: "e")
        store.recordInput(event)
        for micros in 1...20 { store.record(execution(event, rule: "r", micros: Int64(micros))) }
        store.record(execution(event, rule: "r", status: "failed", micros: 7))
        try store.flush()
        // Another event: r acts on it in a later batch (a second distinct event), s once with two actions.
        let other = Event(type: "a.c", id: "f")
        store.recordInput(other)
        store.record(execution(other, rule: "r", micros: 30))
        store.record([execution(other, rule: "s", action: "emit", micros: 5), execution(other, rule: "s", action: "audit", micros: 3)], audits: [])
        try store.close()
        let reader = try HistoryReader(path: path, sealer: nil)
        let expected = [
            StatsRow(rule: "r", fired: 2, action: "publish", outcome: "failed", count: 1, p50Microseconds: 7, p95Microseconds: 7),
            StatsRow(rule: "r", fired: 2, action: "publish", outcome: "ok", count: 21, p50Microseconds: 11, p95Microseconds: 20),
            StatsRow(rule: "s", fired: 1, action: "audit", outcome: "ok", count: 1, p50Microseconds: 3, p95Microseconds: 3),
            StatsRow(rule: "s", fired: 1, action: "emit", outcome: "ok", count: 1, p50Microseconds: 5, p95Microseconds: 5),
        ]
        #expect(try reader.stats(HistoryQuery()) == expected)
        // From the rows instead of the summary (a time filter), the same figures.
        var rows = HistoryQuery()
        rows.since = Timestamp(secondsSinceEpoch: 0)
        #expect(try reader.stats(rows) == expected)
        var onlyS = HistoryQuery()
        onlyS.rule = "s"
        #expect(try reader.stats(onlyS) == Array(expected.suffix(2)))
        var failed = HistoryQuery()
        failed.outcome = "failed"
        #expect(try reader.stats(failed) == [StatsRow(rule: "r", fired: 1, action: "publish", outcome: "failed", count: 1, p50Microseconds: 7, p95Microseconds: 7)])
        var typed = HistoryQuery()
        typed.type = try TypePattern("a.*")
        #expect(try reader.stats(typed) == expected)
        typed.type = try TypePattern("a.c")
        #expect(try reader.stats(typed).map { "\($0.rule) \($0.fired) \($0.action) \($0.count)" } == ["r 1 publish 1", "s 1 audit 1", "s 1 emit 1"])
    }

    @Test("a prune takes out of the stats summary exactly what it removes")
    func statsAfterPrune() throws {
        let store = try store()
        for (index, tag) in ["a", "b", "c"].enumerated() {
            let event = Event(type: "t", id: "e-\(tag)")
            store.record([execution(event, rule: "r", micros: Int64(index + 1)), execution(event, rule: "q", action: "emit", micros: 4)], audits: [])
            try store.flush()
            if tag == "b" { usleep(20_000) }
        }
        // e-a acted on again later (a retry's row): its event must still count once after the first row goes.
        store.record(execution(Event(type: "t", id: "e-a"), rule: "r", micros: 9))
        try store.flush()
        do {
            // Before the prune: e-a counts once for r, though its rows are in two commits.
            let reader = try HistoryReader(path: path, sealer: nil)
            var rows = HistoryQuery()
            rows.since = Timestamp(secondsSinceEpoch: 0)
            #expect(try reader.stats(HistoryQuery()) == (try reader.stats(rows)))
            #expect(try reader.stats(HistoryQuery()).map { "\($0.rule) \($0.fired) \($0.count)" } == ["q 3 3", "r 3 4"])
        }
        let cut = try #require(try SQLiteDatabase(path: path).prepare("SELECT time_ns FROM chain WHERE seq = (SELECT link FROM executions WHERE event_id = 'e-b' LIMIT 1)").rows { $0.int(0) }.first)
        let pruned = try store.prune(before: Timestamp(nanosecondsSinceEpoch: cut + 1), principal: "user:ops")
        try store.close()
        #expect(pruned.executions == 4)
        let reader = try HistoryReader(path: path, sealer: nil)
        var rows = HistoryQuery()
        rows.since = Timestamp(secondsSinceEpoch: 0)
        let summary = try reader.stats(HistoryQuery())
        #expect(summary == (try reader.stats(rows)))
        #expect(summary.map { "\($0.rule) \($0.fired) \($0.action) \($0.count)" } == ["q 1 emit 1", "r 2 publish 2"])
    }

    @Test("a trace walks up to the input event and down through actions and derived events")
    func trace() throws {
        let store = try store()
        let input = Event(type: "ticket.created", payload: ["text": "refund"], id: "in")
        let child = Event(type: "billing.refund", id: "child", causation: Causation(parentID: "in", rule: "triage", hop: 1))
        let grandchild = Event(type: "mail.sent", id: "grandchild", causation: Causation(parentID: "child", rule: "mailer", hop: 2))
        store.recordInput(input)
        store.record(execution(input, rule: "triage", derived: child))
        store.record(execution(input, rule: "audit", action: "audit"))
        store.record(execution(child, rule: "mailer", action: "emit", derived: grandchild))
        try store.close()
        let reader = try HistoryReader(path: path, sealer: EnvelopeSealer(key: key))
        let root = try #require(try reader.trace("grandchild"))
        #expect(root.event.id == "in")
        #expect(root.event.event?.payload == ["text": "refund"])
        #expect(root.executions.map(\.execution.rule) == ["triage", "audit"])
        let childNode = try #require(root.executions.first?.child)
        #expect(childNode.event.id == "child")
        #expect(childNode.event.parentID == "in")
        #expect(childNode.executions.first?.child?.event.id == "grandchild")
        #expect(try reader.trace("missing") == nil)
    }

    @Test("payload plaintext appears nowhere in the database files; without the key it is not shown")
    func encryptedAtRest() throws {
        let store = try store()
        let secret = "card 4111-1111-1111-1111 for ada"
        let event = Event(type: "ticket.created", payload: ["text": .string(secret)], id: "secret-1")
        store.recordInput(event)
        store.record(execution(event, rule: "r", derived: Event(type: "x.y", payload: ["copy": .string(secret)], id: "secret-2")))
        store.recordRejected(source: "in.jsonl", line: 3, reason: "not valid JSON", content: Array("{\(secret)".utf8))
        let delayed = Event(type: "later", payload: ["text": .string(secret)], id: "secret-3")
        try store.scheduledEntries.save(ScheduledEntry(id: ScheduleID(rawValue: "s-1"), event: delayed, due: Timestamp(secondsSinceEpoch: 5)))
        try store.close()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))
            #expect(bytes.range(of: Data("4111-1111".utf8)) == nil, "plaintext found in \(file)")
        }
        #expect(try HistoryReader(path: path, sealer: nil).event(id: "secret-1")?.event == nil)
        #expect(try HistoryReader(path: path, sealer: EnvelopeSealer(key: key)).event(id: "secret-1")?.event?.payload["text"] == .string(secret))
        // The rejected line is a row of its own, its bytes sealed under the dead-letter context.
        let deadLetters = try SQLiteDatabase(path: path).prepare("SELECT source, line, reason, received_ns, content FROM dead_letters")
            .rows { ($0.text(0), $0.int(1), $0.text(2), $0.int(3), $0.blob(4) ?? []) }
        #expect(deadLetters.count == 1)
        if let (source, line, reason, received, content) = deadLetters.first {
            #expect(source == "in.jsonl" && line == 3 && reason == "not valid JSON")
            let context = HistoryEnvelopes.deadLetter(source: "in.jsonl", line: 3, received: Timestamp(nanosecondsSinceEpoch: received))
            #expect(try EnvelopeSealer(key: key).open(content, context: context) == Array("{\(secret)".utf8))
        }
    }

    @Test("the queue's envelope is stored as is when it is under the history key; any other is sealed anew; legacy envelopes are not accepted")
    func envelopeReuse() throws {
        let store = try store()
        let queueSealer = EnvelopeSealer(key: key)
        let input = Event(type: "ticket.created", payload: ["n": 1], id: "in-1")
        let sealedInput = try SealedEvent(sealing: input, with: queueSealer)
        store.recordInput(input, sealed: sealedInput)
        let derived = Event(type: "x.y", payload: ["n": 2], id: "d-1", causation: Causation(parentID: "in-1", rule: "r", hop: 1))
        var record = execution(input, rule: "r", derived: derived)
        record = ExecutionRecord(
            eventID: record.eventID, eventType: record.eventType, rule: "r", kind: .publish, outcome: .ok, error: nil, message: nil, started: record.started,
            finished: record.finished, derivedEvent: derived, sealedDerivedEvent: try SealedEvent(sealing: derived, with: queueSealer))
        store.record(record)
        // Sealed under another key (an ephemeral queue key): history must not keep that envelope.
        let other = Event(type: "ticket.created", payload: ["n": 3], id: "in-2")
        store.recordInput(other, sealed: try SealedEvent(sealing: other, with: EnvelopeSealer(key: try EncryptionKey.generate())))
        // The same event, priority changed: not this event's envelope, so it is sealed anew.
        let reprioritized = Event(type: "ticket.created", payload: ["n": 5], priority: 1, id: "in-3")
        var wrongPriority = try SealedEvent(sealing: reprioritized, with: queueSealer)
        wrongPriority.priority = 7
        store.recordInput(reprioritized, sealed: wrongPriority)
        try store.close()

        let database = try SQLiteDatabase(path: path)
        let payloads = try database.prepare("SELECT id, payload FROM events ORDER BY id").rows { ($0.text(0) ?? "", $0.blob(1) ?? []) }
        #expect(payloads.first { $0.0 == "in-1" }?.1 == sealedInput.envelope)
        #expect(payloads.first { $0.0 == "d-1" }?.1 == record.sealedDerivedEvent?.envelope)
        let reader = try HistoryReader(path: path, sealer: EnvelopeSealer(key: key))
        #expect(try reader.event(id: "in-1")?.event?.payload == ["n": 1])
        #expect(try reader.event(id: "d-1")?.event?.causation == Causation(parentID: "in-1", rule: "r", hop: 1))
        #expect(try reader.event(id: "in-2")?.event?.payload == ["n": 3])
        #expect(try reader.event(id: "in-3")?.event?.payload == ["n": 5])
        // The envelope binds type and priority too: editing either column makes it unreadable.
        try database.execute("UPDATE events SET type = 'ticket.closed' WHERE id = 'in-1'")
        #expect(try reader.event(id: "in-1")?.event == nil)
        try database.execute("UPDATE events SET priority = 0 WHERE id = 'in-2'")
        #expect(try reader.event(id: "in-2")?.event == nil)
        // A legacy envelope (bound to the id only) put in place of a current one is not accepted.
        let legacy = try queueSealer.seal(EventBodyCodec.encode(other), context: HistoryEnvelopes.legacyEvent(id: "in-3"))
        try database.execute("UPDATE events SET payload = x'\(legacy.map { String(format: "%02x", $0) }.joined())' WHERE id = 'in-3'")
        #expect(try reader.event(id: "in-3")?.event == nil)
    }

    @Test("migration 5 re-seals legacy event payloads under the current context, with retired keys too; after it, type and priority are bound")
    func resealMigration() throws {
        let retired = try EncryptionKey(bytes: [UInt8](repeating: 4, count: 32))
        let old = Event(type: "old.event", payload: ["n": 4], priority: 2, id: "old-1", source: "web")
        let older = Event(type: "older.event", payload: ["n": 5], id: "old-2")
        do {
            let database = try SQLiteDatabase(path: path)
            try HistorySchema.migrate(database, to: HistorySchema.resealStep - 1)
            for (event, sealKey) in [(old, key), (older, retired)] {
                let envelope = try EnvelopeSealer(key: sealKey).seal(EventBodyCodec.encode(event), context: HistoryEnvelopes.legacyEvent(id: event.id))
                try database.prepare("INSERT INTO events (id, type, priority, received_ns, time_ns, payload) VALUES (?, ?, ?, 1, 1, ?)")
                    .run([.text(event.id), .text(event.type), .int(Int64(event.priority)), .blob(envelope)])
            }
            try database.prepare("INSERT INTO events (id, type, priority, received_ns, time_ns, payload) VALUES ('junk', 't', 5, 1, 1, x'00')").run()
        }
        // Without the retired key the migration stops before changing anything, and says which key it needs.
        let refused = #expect(throws: StoreError.self) { try HistoryStore(path: path, key: key) }
        #expect(refused?.message.contains("event old-2's was sealed with key \(retired.idString), which was not given") == true)
        #expect(try SQLiteDatabase(path: path).userVersion == HistorySchema.resealStep - 1)
        #expect(!HistoryStore.isCurrentSchema(path: path))
        try HistoryStore(path: path, key: key, retiredKeys: [retired]).close()
        #expect(HistoryStore.isCurrentSchema(path: path))

        let database = try SQLiteDatabase(path: path)
        #expect(try database.userVersion == HistorySchema.currentVersion)
        // The re-seal is in the hash-chained audit trail, with the ids it changed.
        let migration = try AuditReader(path: path).list(operation: "history.migrate")
        #expect(migration.count == 1)
        #expect(migration.first?.details.hasPrefix("schema 5: 2 event payloads re-sealed under key \(key.idString) (") == true)
        #expect(migration.first?.details.contains("old-1") == true && migration.first?.details.contains("old-2") == true)
        // Three legacy events, covered by the genesis link; the migration record in the link after it.
        #expect(try AuditReader(path: path).verify(keys: [key, retired]) == .intact(links: 2, rows: 4))
        let reader = try HistoryReader(path: path, sealer: EnvelopeSealer(key: key))
        #expect(try reader.event(id: "old-1")?.event?.payload == ["n": 4])
        #expect(try reader.event(id: "old-1")?.event?.source == "web")
        #expect(try reader.event(id: "old-2")?.event?.payload == ["n": 5])  // re-sealed under the active key
        #expect(try reader.event(id: "junk")?.event == nil)  // left as it was
        try database.execute("UPDATE events SET priority = 9 WHERE id = 'old-1'")
        #expect(try reader.event(id: "old-1")?.event == nil)
    }

    /// What the scheduler hands over with a one-shot entry's event when it publishes it: nothing is written until it is completed.
    func fire(_ entry: ScheduledEntry, at time: Timestamp) -> FiredEntry {
        FiredEntry(id: entry.id, eventID: entry.event.id, due: entry.due, firedAt: time, sealed: entry.sealed)
    }

    @Test("scheduled entries survive a reopen; a fired one-shot entry is marked done with its event recorded")
    func durableScheduledEntries() throws {
        let event = Event(type: "follow.up", payload: ["n": 1], id: "f-1")
        let entry = ScheduledEntry(id: ScheduleID(rawValue: "s-1"), event: event, due: Timestamp(secondsSinceEpoch: 50))
        do {
            let store = try store()
            try store.scheduledEntries.save(entry)
            try store.scheduledEntries.save(ScheduledEntry(id: ScheduleID(rawValue: "s-2"), event: Event(type: "x", id: "x-1"), due: Timestamp(secondsSinceEpoch: 60)))
            try store.scheduledEntries.cancel(ScheduleID(rawValue: "s-2"))
            try store.close()
        }
        let reopened = try store()
        let pending = try reopened.scheduledEntries.loadPending()
        #expect(pending == [entry])
        let late = fire(entry, at: Timestamp(secondsSinceEpoch: 55))
        // Fired within a second of its due time: not late.
        let punctual = ScheduledEntry(id: ScheduleID(rawValue: "s-3"), event: Event(type: "on.time", id: "o-1"), due: Timestamp(secondsSinceEpoch: 70))
        try reopened.scheduledEntries.save(punctual)
        let onTime = fire(punctual, at: Timestamp(nanosecondsSinceEpoch: 70_500_000_000))
        // s-1's event is handled with an action (its done mark goes with the execution); o-1's by no rule.
        reopened.record([execution(event, rule: "r", derived: nil)], audits: [], completing: (late, event))
        try reopened.scheduledEntries.completeFired(onTime, event: punctual.event)
        try reopened.close()
        let again = try store()
        #expect(try again.scheduledEntries.loadPending().isEmpty)
        try again.close()
        let reader = try HistoryReader(path: path, sealer: nil)
        let rows = try reader.scheduled(state: nil)
        #expect(rows.map(\.state) == ["done", "cancelled", "done"])
        #expect(rows.map(\.late) == [true, false, false])
        #expect(try reader.event(id: "f-1")?.type == "follow.up")
    }

    @Test("an entry stores its event's own envelope (the one it was scheduled with, when under the active key); one stored under the legacy entry context still opens")
    func scheduledEnvelopes() throws {
        let event = Event(type: "follow.up", payload: ["n": 1], id: "f-1")
        let sealed = try SealedEvent(sealing: event, with: EnvelopeSealer(key: key))
        let entry = ScheduledEntry(id: ScheduleID(rawValue: "s-1"), event: event, due: Timestamp(secondsSinceEpoch: 50), sealed: sealed)
        let legacyEvent = Event(type: "follow.up", payload: ["n": 2], id: "f-2")
        let legacy = ScheduledEntry(id: ScheduleID(rawValue: "s-2"), event: legacyEvent, due: Timestamp(secondsSinceEpoch: 60))
        let store = try store()
        try store.scheduledEntries.save(entry)
        try store.scheduledEntries.save(legacy)
        try store.close()
        // As a build before entries shared the event's envelope stored it.
        let database = try SQLiteDatabase(path: path)
        let legacyEnvelope = try EnvelopeSealer(key: key).seal(
            EventBodyCodec.encode(legacyEvent), context: HistoryEnvelopes.scheduled(id: legacy.id, eventID: legacyEvent.id))
        try database.prepare("UPDATE scheduled SET envelope = ? WHERE id = 's-2'").run([.blob(legacyEnvelope)])
        let stored = try database.prepare("SELECT envelope FROM scheduled WHERE id = 's-1'").rows { $0.blob(0) ?? [] }
        #expect(stored == [sealed.envelope])  // kept, not sealed again

        let reopened = try self.store()
        let pending = try reopened.scheduledEntries.loadPending()
        try reopened.close()
        #expect(pending == [entry, legacy])
        #expect(pending.map(\.sealed) == [sealed, nil])  // only the event's own envelope is handed on to the queue
    }

    @Test("a fired entry whose event was never handled (the process died first) stays pending and fires again")
    func firedButNotHandled() throws {
        let event = Event(type: "follow.up", id: "f-9")
        let entry = ScheduledEntry(id: ScheduleID(rawValue: "s-9"), event: event, due: Timestamp(secondsSinceEpoch: 50))
        let first = try store()
        try first.scheduledEntries.save(entry)
        _ = fire(entry, at: Timestamp(secondsSinceEpoch: 51))
        try first.close()  // no handling was recorded: as after a crash between publishing and handling
        let reopened = try store()
        let pending = try reopened.scheduledEntries.loadPending()
        #expect(pending.map(\.id.rawValue) == ["s-9"])
        // Handled this time: the done mark and the execution are committed together.
        let again = fire(try #require(pending.first), at: Timestamp(secondsSinceEpoch: 60))
        reopened.record([execution(event, rule: "r", derived: nil)], audits: [], completing: (again, event))
        try reopened.close()
        let reader = try HistoryReader(path: path, sealer: nil)
        #expect(try reader.scheduled(state: nil).map(\.state) == ["done"])
        var query = HistoryQuery()
        query.eventID = "f-9"
        #expect(try reader.executions(query).count == 1)
    }

    @Test("in an event system, a fired entry whose event no handler records anything for is marked done once a worker delivered it")
    func doneAfterDelivery() throws {
        let store = try store()
        var configuration = EventSystemConfiguration()
        configuration.workerCount = 1
        let clock = ManualClock()
        configuration.clock = clock
        configuration.scheduleStore = store.scheduledEntries
        let system = try EventSystem(configuration: configuration)
        let delivered = Locked<[String]>([])
        try system.subscribe("later") { event in delivered.withLock { $0.append(event.id) } }  // records nothing in history
        try system.start()
        _ = try system.schedule(Event(type: "later", id: "l-1"), after: .seconds(5))
        clock.advance(by: .seconds(5))
        system.stop()
        try store.close()
        #expect(delivered.withLock { $0 } == ["l-1"])
        #expect(try HistoryReader(path: path, sealer: nil).scheduled(state: nil).map(\.state) == ["done"])
    }

    @Test("pending entries filter by origin rule, exact and wildcard type, and limit, in due order")
    func scheduledFilters() throws {
        let store = try store()
        for (index, (type, rule)) in [("ticket.follow_up", "a"), ("ticket.reminder", "b"), ("http.recheck", "a"), ("ticket.follow_up", "a")].enumerated() {
            let event = Event(type: type, id: "e-\(index)", causation: Causation(parentID: "p", rule: rule, hop: 1))
            try store.scheduledEntries.save(ScheduledEntry(id: ScheduleID(rawValue: "s-\(index)"), event: event, due: Timestamp(secondsSinceEpoch: Int64(100 + index))))
        }
        try store.close()
        let reader = try HistoryReader(path: path, sealer: nil)
        #expect(try reader.scheduled().map(\.id) == ["s-0", "s-1", "s-2", "s-3"])
        #expect(try reader.scheduled(rule: "a").map(\.id) == ["s-0", "s-2", "s-3"])
        #expect(try reader.scheduled(type: try TypePattern("ticket.follow_up")).map(\.id) == ["s-0", "s-3"])
        #expect(try reader.scheduled(rule: "a", type: try TypePattern("ticket.*")).map(\.id) == ["s-0", "s-3"])
        #expect(try reader.scheduled(type: try TypePattern("ticket.*"), limit: 2).map(\.id) == ["s-0", "s-1"])
        #expect(try reader.scheduled(rule: "a", limit: 1).map(\.id) == ["s-0"])
    }

    @Test("the writer's buffer is bounded in bytes too: large events wait for the writer one hand-off at a time, and none is lost")
    func bufferBoundedInBytes() throws {
        let body = JSONValue.string(String(repeating: "x", count: 10_000))
        let event = Event(type: "big", payload: ["body": body], id: "big-0")
        let row = HistoryRow.event(EventInsert(event, received: Timestamp(secondsSinceEpoch: 1), payload: Array(repeating: 7, count: 10_050)))
        #expect(row.bufferedBytes > 20_000)  // the payload, and again in the chain encoding
        // One byte: each hand-off waits until the writer has taken the one before, so each is a commit of its own.
        let store = try HistoryStore(path: path, key: key, bufferBytes: 1)
        let count = 40
        for index in 0..<count { store.recordInput(Event(type: "big", payload: ["body": body], id: "big-\(index)")) }
        try store.close()
        let reader = try HistoryReader(path: path, sealer: EnvelopeSealer(key: key))
        for index in 0..<count { #expect(try reader.event(id: "big-\(index)")?.event?.payload["body"] == body) }
        let database = try SQLiteDatabase(path: path, readOnly: true)
        let links = try database.prepare("SELECT count(*) FROM chain WHERE note NOT LIKE 'database %'").rows { $0.int(0) }[0]
        #expect(links == Int64(count))

        // A bound of zero bytes still takes each hand-off when the buffer is empty: nothing waits forever.
        let unbuffered = try HistoryStore(path: directory + "/unbuffered.db", key: key, bufferBytes: 0)
        for index in 0..<3 { unbuffered.recordInput(Event(type: "big", payload: ["body": body], id: "zero-\(index)")) }
        try unbuffered.close()
        let zeroReader = try HistoryReader(path: directory + "/unbuffered.db", sealer: nil)
        for index in 0..<3 { #expect(try zeroReader.event(id: "zero-\(index)") != nil) }
    }

    @Test("readers read while the writer writes; a small buffer applies back-pressure and loses nothing")
    func readersDuringWrites() throws {
        let store = try HistoryStore(path: path, key: key, bufferCapacity: 8)
        let reader = try HistoryReader(path: path, sealer: nil)
        let total = 3_000
        let writing = DispatchSemaphore(value: 0)
        Thread {
            for index in 0..<total {
                store.record(self.execution(Event(type: "load", id: "e\(index)"), rule: "r", at: Int64(index)))
            }
            writing.signal()
        }.start()
        var last = 0
        var query = HistoryQuery()
        query.limit = total
        while writing.wait(timeout: .now()) == .timedOut {
            let count = try reader.executions(query).count
            #expect(count >= last)
            last = count
        }
        try store.close()
        #expect(try reader.executions(query).count == total)
    }
}
