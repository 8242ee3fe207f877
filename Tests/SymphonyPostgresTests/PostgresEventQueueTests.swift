import Foundation
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import SymphonyPostgres
import Testing

/// The shared queue: claims in priority then FIFO order, concurrent claimers that never take the
/// same event, leases that run out on the caller's clock, and completions that count once.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresEventQueueTests {
    let sealer = EnvelopeSealer(key: try! EncryptionKey(bytes: [UInt8](repeating: 7, count: 32)))
    let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    func sealed(_ count: Int, priority: (Int) -> Int = { _ in 5 }) throws -> [SealedEvent] {
        try (0..<count).map { try SealedEvent(sealing: Event(type: "job.\($0)", priority: priority($0), id: "e\($0)"), with: sealer) }
    }

    @Test("a claim comes in priority order (0 first, as the in-memory queue), first in first out within a priority, and opens to the events queued")
    func claimOrder() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        try PostgresEventQueue.enqueue(try sealed(9) { [0, 9, 5][$0 % 3] }, at: start, on: connection)
        let claims = try PostgresEventQueue.claim(limit: 100, node: "a", now: start, lease: .seconds(30), on: connection)
        #expect(claims.map(\.sealed.id) == ["e0", "e3", "e6", "e2", "e5", "e8", "e1", "e4", "e7"])
        #expect(try claims.map { try $0.sealed.open(with: sealer).type } == claims.map { "job." + $0.sealed.id.dropFirst() })
        #expect(claims.allSatisfy { $0.claims == 1 })
        #expect(try PostgresEventQueue.depth(on: connection) == [0: 3, 5: 3, 9: 3])
        #expect(try PostgresEventQueue.claim(limit: 100, node: "b", now: start, lease: .seconds(30), on: connection).isEmpty)
        #expect(try PostgresEventQueue.complete(claims.map(\.sequence), node: "a", on: connection) == 9)
        #expect(try PostgresEventQueue.depth(on: connection).isEmpty)
    }

    @Test("a lane claim takes one lane and the events of none; a second claimer meanwhile takes another lane, never the first")
    func laneClaims() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let first = try database.connect()
        let second = try database.connect()
        // e0, e3: lane 7; e1: lane 8; e2: none.
        try PostgresEventQueue.enqueue(try sealed(4), lanes: [7, 8, nil, 7], at: start, on: first)
        try first.execute("BEGIN")
        let claimed = try PostgresEventQueue.claim(limit: 10, node: "a", now: start, lease: .seconds(30), laneFrom: 7, on: first)
        #expect(claimed.map(\.sealed.id) == ["e0", "e2", "e3"])
        // Lane 7 is held until the first claim's transaction ends: asked from lane 7, the second claimer gets lane 8.
        try second.execute("BEGIN")
        #expect(try PostgresEventQueue.claim(limit: 10, node: "b", now: start, lease: .seconds(30), laneFrom: 7, on: second).map(\.sealed.id) == ["e1"])
        try second.execute("ROLLBACK")
        try first.execute("ROLLBACK")
        // Once it ended, the lane is free again; without lanes, a claim takes every lane.
        #expect(try PostgresEventQueue.claim(limit: 10, node: "b", now: start, lease: .seconds(30), laneFrom: 8, on: second).map(\.sealed.id) == ["e1", "e2"])
        #expect(try PostgresEventQueue.claim(limit: 10, node: "c", now: start.advanced(by: .seconds(60)), lease: .seconds(30), on: second).count == 4)
        // A key's lane is the same everywhere, and one of the lanes.
        #expect(PostgresEventQueue.lane(ofKey: "203.0.113.9") == PostgresEventQueue.lane(ofKey: "203.0.113.9"))
        #expect(Set((0..<1_000).map { PostgresEventQueue.lane(ofKey: "key-\($0)") }) == Set(0..<PostgresEventQueue.laneCount))
    }

    @Test("four claimers at once take disjoint batches that together are every event queued")
    func concurrentClaims() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        try PostgresEventQueue.enqueue(try sealed(2_000), at: start, on: try database.connect())
        let taken = Locked<[String: String]>([:])
        let duplicates = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 4) { node in
            guard let connection = try? database.connect() else { return }
            while true {
                let done: Bool = (try? connection.transaction { connection in
                    let claims = try PostgresEventQueue.claim(limit: 50, node: "n\(node)", now: start, lease: .seconds(30), on: connection)
                    taken.withLock { taken in
                        for claim in claims where taken.updateValue("n\(node)", forKey: claim.sealed.id) != nil { duplicates.withLock { $0 += 1 } }
                    }
                    try PostgresEventQueue.complete(claims.map(\.sequence), node: "n\(node)", on: connection)
                    return claims.isEmpty
                }) ?? true
                if done { break }
            }
        }
        #expect(duplicates.withLock { $0 } == 0)
        #expect(taken.withLock { $0.count } == 2_000)
        #expect(try PostgresEventQueue.depth(on: try database.connect()).isEmpty)
    }

    @Test("a claim whose lease ran out is claimed again, and only the new holder's completion counts")
    func leaseExpiry() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let a = try database.connect()
        let b = try database.connect()
        try PostgresEventQueue.enqueue(try sealed(3), at: start, on: a)
        let first = try PostgresEventQueue.claim(limit: 10, node: "a", now: start, lease: .seconds(30), on: a)
        #expect(first.count == 3)
        // Still held at 29 s; run out at 30 s.
        #expect(try PostgresEventQueue.claim(limit: 10, node: "b", now: start.adding(.seconds(29)), lease: .seconds(30), on: b).isEmpty)
        #expect(try PostgresEventQueue.renew([first[0].sequence], node: "a", now: start.adding(.seconds(20)), lease: .seconds(30), on: a) == 1)
        let second = try PostgresEventQueue.claim(limit: 10, node: "b", now: start.adding(.seconds(30)), lease: .seconds(30), on: b)
        #expect(second.map(\.sealed.id) == ["e1", "e2"])
        #expect(second.allSatisfy { $0.claims == 2 })
        // Node a lost e1 and e2: its completion removes only e0, which it still holds.
        #expect(try PostgresEventQueue.complete(first.map(\.sequence), node: "a", on: a) == 1)
        #expect(try PostgresEventQueue.renew(second.map(\.sequence), node: "a", now: start, lease: .seconds(30), on: a) == 0)
        #expect(try PostgresEventQueue.complete(second.map(\.sequence), node: "b", on: b) == 2)
        #expect(try PostgresEventQueue.depth(on: a).isEmpty)
    }

    @Test("a claim inside a transaction that rolls back (a node dying mid-batch) leaves the events to others at once")
    func rolledBackClaim() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        try PostgresEventQueue.enqueue(try sealed(5), at: start, on: connection)
        var pid: Int32 = 0
        do {
            let dying = try database.connect()
            pid = dying.backendPID
            try dying.execute("BEGIN")
            #expect(try PostgresEventQueue.claim(limit: 10, node: "dying", now: start, lease: .seconds(30), on: dying).count == 5)
            // Skipped while locked by the open transaction …
            #expect(try PostgresEventQueue.claim(limit: 10, node: "b", now: start, lease: .seconds(30), on: connection).isEmpty)
        }  // … and free once its connection is gone.
        try database.waitUntilEnded(backend: pid)
        #expect(try PostgresEventQueue.claim(limit: 10, node: "b", now: start, lease: .seconds(30), on: connection).count == 5)
    }
}

extension Timestamp {
    func adding(_ duration: Duration) -> Timestamp {
        let (seconds, attoseconds) = duration.components
        return Timestamp(nanosecondsSinceEpoch: nanosecondsSinceEpoch + seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
