import Foundation
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import SymphonyPostgres
import Testing

/// Scheduled entries shared by nodes: stored and loaded as they were, one pending entry per key,
/// and every due entry fired exactly once cluster-wide, also when firing nodes race or die.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresScheduledEntryStoreTests {
    let sealer = EnvelopeSealer(key: try! EncryptionKey(bytes: [UInt8](repeating: 9, count: 32)))
    let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    func entry(_ n: Int, dueIn seconds: Int64, every interval: Duration? = nil, key: String? = nil) -> ScheduledEntry {
        ScheduledEntry(
            id: ScheduleID(rawValue: "s\(n)"), event: Event(type: "later", id: "ev\(n)", time: start),
            due: Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + seconds * 1_000_000_000), interval: interval, key: key)
    }

    @Test("entries load as saved, in the order stored; a cancelled entry is gone; a second entry with a key replaces the first")
    func saveLoadCancel() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try PostgresScheduledEntryStore(url: database.url, sealer: sealer)
        try store.save(entry(1, dueIn: 10))
        try store.save(entry(2, dueIn: 5, every: .seconds(60)))
        try store.save(entry(3, dueIn: 7, key: "ticket-1"))
        try store.save(entry(4, dueIn: 8, key: "ticket-1"))
        try store.cancel(ScheduleID(rawValue: "s1"))
        #expect(try store.loadPending() == [entry(2, dueIn: 5, every: .seconds(60)), entry(4, dueIn: 8, key: "ticket-1")])
        #expect(try store.cancel(key: "ticket-1"))
        #expect(try !store.cancel(key: "ticket-1"))
        #expect(try store.nextDue() == entry(2, dueIn: 5).due)
    }

    @Test("firing queues each due one-shot event once and removes it; a periodic entry queues a copy with a fresh id and moves on")
    func fireDue() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try PostgresScheduledEntryStore(url: database.url, sealer: sealer)
        try store.save(entry(1, dueIn: 10))
        try store.save(entry(2, dueIn: 20))
        try store.save(entry(3, dueIn: 5, every: .seconds(60)))
        #expect(try store.fireDue(now: start.adding(.seconds(4)), limit: 100).isEmpty)
        let fired = try store.fireDue(now: start.adding(.seconds(130)), limit: 100)
        #expect(fired.count == 3)
        #expect(fired.map(\.id).contains("ev1") && fired.map(\.id).contains("ev2"))
        let periodic = try #require(fired.first { $0.type == "later" && !["ev1", "ev2"].contains($0.id) })
        #expect(periodic.id != "ev3")
        #expect(try periodic.open(with: sealer).time == entry(3, dueIn: 5).due, "a periodic copy's time is the due time it fired for")
        // Due at 5 s, every 60 s, fired at 130 s: next due at 185 s.
        #expect(try store.loadPending() == [entry(3, dueIn: 185, every: .seconds(60))])
        let connection = try database.connect()
        let claims = try PostgresEventQueue.claim(limit: 10, node: "a", now: start, lease: .seconds(30), on: connection)
        #expect(Set(claims.map(\.sealed.id)) == Set(fired.map(\.id)))
        #expect(try claims.map { try $0.sealed.open(with: sealer).id } == claims.map(\.sealed.id))
    }

    @Test("four nodes firing at once fire each of 400 due entries exactly once")
    func concurrentFiring() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let setup = try PostgresScheduledEntryStore(url: database.url, sealer: sealer)
        for n in 0..<400 { try setup.save(entry(n, dueIn: Int64(n % 7))) }
        let fired = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            guard let store = try? PostgresScheduledEntryStore(url: database.url, sealer: sealer) else { return }
            while let events = try? store.fireDue(now: start.adding(.seconds(10)), limit: 7), !events.isEmpty {
                fired.withLock { $0 += events.map(\.id) }
            }
        }
        let ids = fired.withLock { $0 }
        #expect(ids.count == 400)
        #expect(Set(ids).count == 400)
        let connection = try database.connect()
        #expect(try PostgresEventQueue.depth(on: connection) == [5: 400])
        #expect(try setup.loadPending().isEmpty)
    }

    @Test("a node that dies while firing (its transaction never commits) leaves its entries to be fired by another")
    func deathMidFire() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try PostgresScheduledEntryStore(url: database.url, sealer: sealer)
        for n in 0..<3 { try store.save(entry(n, dueIn: 0)) }
        var pid: Int32 = 0
        do {
            let dying = try database.connect()
            pid = dying.backendPID
            try dying.execute("BEGIN")
            let locked = try dying.execute("SELECT id FROM symphony_scheduled WHERE due_ns <= $1 FOR UPDATE SKIP LOCKED", [.int(start.nanosecondsSinceEpoch)])
            #expect(locked.count == 3)
            try dying.execute("DELETE FROM symphony_scheduled")
            // Meanwhile another node finds nothing it may take.
            #expect(try store.fireDue(now: start, limit: 10).isEmpty)
        }  // The connection closes without COMMIT.
        try database.waitUntilEnded(backend: pid)
        #expect(try store.fireDue(now: start, limit: 10).map(\.id).sorted() == ["ev0", "ev1", "ev2"])
        #expect(try store.fireDue(now: start, limit: 10).isEmpty)
    }
}
