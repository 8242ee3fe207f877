import Foundation
import SymphonyPostgres
import SymphonyRecords
import Testing

/// The shared state of rules with memory: stored and read back as it was, read as empty under
/// other settings, removed when emptied or dead, and locked per slot across connections.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresGateStoreTests {
    let window = GateSlot(rule: "ban", kind: .count, key: "203.0.113.9")
    let throttle = GateSlot(rule: "ban", kind: .throttle, key: "203.0.113.9")
    let waiting = GateSlot(rule: "pair", kind: .after, key: "quote \" and, {brace}")

    func settings(_ slot: GateSlot) -> String? { "settings of \(slot.rule) \(slot.kind.rawValue)" }

    @Test("every kind of record reads back as saved; a slot saved as nil is removed; another rule's settings read as empty")
    func roundTrip() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        let records: [(slot: GateSlot, record: GateRecord?)] = [
            (window, .window(times: [1, 2, 3], ids: ["a", "b", "c"])), (throttle, .throttle(lastFired: 7, suppressed: 4)),
            (waiting, .waiting(times: [-5, 9_000_000_000_000_000_000], ids: ["x\u{1}y", "ü"])),
        ]
        try PostgresGateStore.save(records, settings: settings, on: connection)
        let loaded = try PostgresGateStore.load([window, throttle, waiting, GateSlot(rule: "none", kind: .count, key: "")], settings: settings, on: connection)
        #expect(loaded.count == 3)
        for (slot, record) in records { #expect(loaded[slot] == record, "\(slot)") }
        // Saved again: the row changes in place; nil removes it.
        try PostgresGateStore.save([(window, .window(times: [4], ids: [])), (throttle, nil)], settings: settings, on: connection)
        let again = try PostgresGateStore.load([window, throttle], settings: settings, on: connection)
        #expect(again == [window: .window(times: [4], ids: [])])
        #expect(try connection.execute("SELECT count(*) FROM symphony_gates").int(0, 0) == 2)
        // A rule whose gate changed reads what its old settings stored as nothing.
        #expect(try PostgresGateStore.load([window], settings: { _ in "count 9 within 1h" }, on: connection).isEmpty)
        #expect(try PostgresGateStore.state(of: "pair", settings: settings, on: connection).map(\.slot) == [waiting])
    }

    @Test("a state column that is not a gate's record reads as empty and is reported, not a crash nor an error that would stop every node")
    func corruptState() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        try PostgresGateStore.save([(window, .window(times: [1], ids: []))], settings: settings, on: connection)
        for state in ["not json", #"{"fired":1}"#, #"{"times":"x","ids":[]}"#] {
            try connection.execute("UPDATE symphony_gates SET state = $1", [.text(state)])
            var unreadable: [GateSlot] = []
            #expect(try PostgresGateStore.load([window], settings: settings, unreadable: { unreadable.append($0) }, on: connection).isEmpty)
            #expect(unreadable == [window])
        }
    }

    @Test("keys holding NUL are stored, read back and locked as U+FFFD, under the names the caller gave")
    func nulKeys() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        let slot = GateSlot(rule: "ban", kind: .count, key: "a\u{0}b")
        try PostgresGateStore.save([(slot, .window(times: [5], ids: ["x\u{0}"]))], settings: settings, on: connection)
        #expect(try PostgresGateStore.load([slot], settings: settings, on: connection) == [slot: .window(times: [5], ids: ["x\u{0}"])])
        #expect(try connection.execute("SELECT key FROM symphony_gates").text(0, 0) == "a\u{FFFD}b")
        #expect(PostgresLocks.id(of: slot) == PostgresLocks.id(of: GateSlot(rule: "ban", kind: .count, key: "a\u{FFFD}b")))
        try PostgresGateStore.save([(slot, nil)], settings: settings, on: connection)
        #expect(try connection.execute("SELECT count(*) FROM symphony_gates").int(0, 0) == 0)
    }

    @Test("a gate over its max_keys loses first the rows older than its window before its newest, then its oldest tenth; one within is left alone")
    func sweep() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        let second: Int64 = 1_000_000_000
        func slot(_ rule: String, _ key: String) -> GateSlot { GateSlot(rule: rule, kind: .count, key: key) }
        try PostgresGateStore.save(
            [
                (slot("ban", "old"), .window(times: [10 * second], ids: [])), (slot("ban", "edge"), .window(times: [40 * second], ids: [])),
                (slot("ban", "new"), .window(times: [100 * second], ids: [])), (slot("other", "old"), .window(times: [1], ids: [])),
            ], settings: settings, on: connection)
        #expect(try PostgresGateStore.sweep(rule: "ban", kind: .count, horizon: .seconds(60), maxKeys: 3, on: connection) == 0)
        #expect(try PostgresGateStore.sweep(rule: "ban", kind: .count, horizon: .seconds(60), maxKeys: 2, on: connection) == 1)
        let left = try connection.execute("SELECT rule, key FROM symphony_gates ORDER BY rule, key").values
        #expect(left == [["ban", "edge"], ["ban", "new"], ["other", "old"]])
        // Still over: the oldest tenth (at least one row) goes too.
        #expect(try PostgresGateStore.sweep(rule: "ban", kind: .count, horizon: .seconds(60), maxKeys: 1, on: connection) == 1)
        #expect(try connection.execute("SELECT key FROM symphony_gates WHERE rule = 'ban'").values == [["new"]])
    }

    @Test("a slot's lock is held by one transaction at a time, and ends with it")
    func locks() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let holder = try database.connect()
        let other = try database.connect()
        let ids = [PostgresLocks.id(of: window), PostgresLocks.id(ofDelayKey: "unlock-1"), PostgresLocks.id(of: throttle)]
        #expect(Set(ids).count == 3)
        #expect(PostgresLocks.id(of: window) == PostgresLocks.id(of: GateSlot(rule: "ban", kind: .count, key: "203.0.113.9")))
        func tryLock(_ id: Int64) throws -> Bool {
            try other.transaction { try $0.execute("SELECT pg_try_advisory_xact_lock($1::bigint)", [.int(id)]).text(0, 0) == "t" }
        }
        try holder.execute("BEGIN")
        try PostgresLocks.take(ids + ids, on: holder)
        for id in ids { #expect(try !tryLock(id)) }
        #expect(try tryLock(PostgresLocks.id(of: waiting)))
        try holder.execute("COMMIT")
        for id in ids { #expect(try tryLock(id)) }
    }
}
