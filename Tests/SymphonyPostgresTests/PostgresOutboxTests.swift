import Foundation
import SymphonyCrypto
import SymphonyEvents
import SymphonyPostgres
import SymphonyRecords
import Testing

/// The cluster's side-effect outbox: leases decide which node may try an entry, and a late
/// outcome never undoes a newer one.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresOutboxTests {
    let sealer = EnvelopeSealer(key: try! EncryptionKey(bytes: [UInt8](repeating: 7, count: 32)))
    static let now = Timestamp(secondsSinceEpoch: 1_764_000_000)

    func entry(_ n: Int) -> OutboxEntry {
        OutboxEntry(
            eventID: "e\(n)", eventType: "tick", rule: "note", actionIndex: 0, request: .file(FileSpec(path: "/tmp/notes", line: "n\(n)")),
            retry: RetryPolicy(attempts: 3, backoff: .seconds(1), maximumBackoff: .seconds(10), within: .seconds(60)), gateKey: "k", queued: Self.now)
    }

    func queue(_ entries: [OutboxEntry], leasedTo node: String?, lease: Duration = .seconds(60), on connection: PostgresConnection) throws -> Set<String> {
        try PostgresOutbox.queue(entries.map { ($0, try PostgresOutbox.seal($0, with: sealer)) }, leasedTo: node, for: lease, on: connection)
    }

    @Test("an entry leased to a node is not claimed by another until the lease runs out; an unleased one is, opened as it was queued; queueing a key twice keeps the first")
    func leasesAndClaims() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        #expect(try queue([entry(1)], leasedTo: "a", on: connection) == ["note/e1/0"])
        #expect(try queue([entry(2)], leasedTo: nil, on: connection) == ["note/e2/0"])
        #expect(try queue([entry(1)], leasedTo: nil, on: connection).isEmpty, "already queued")
        let claimed = try PostgresOutbox.claim(limit: 10, node: "b", now: Self.now, lease: .seconds(60), sealer: sealer, on: connection)
        #expect(claimed == [entry(2)], "a's lease holds; the unleased one is b's now")
        // A lease that ran out (here: one of a millisecond) is claimed by the next node that looks.
        #expect(try queue([entry(3)], leasedTo: "a", lease: .milliseconds(1), on: connection) == ["note/e3/0"])
        usleep(20_000)
        #expect(try PostgresOutbox.claim(limit: 10, node: "b", now: Self.now, lease: .seconds(60), sealer: sealer, on: connection).map(\.key) == ["note/e3/0"])
        // Not yet due: not claimed.
        var later = entry(4)
        later.nextAttempt = Self.now.advanced(by: .seconds(10))
        #expect(try queue([later], leasedTo: nil, on: connection).count == 1)
        #expect(try PostgresOutbox.claim(limit: 10, node: "c", now: Self.now, lease: .seconds(60), sealer: sealer, on: connection).isEmpty)
        #expect(try PostgresOutbox.due(now: Self.now, on: connection) == 3)
    }

    @Test("a renewal is refused to a node whose lease another holds, and to a copy whose count of tries is stale; a late outcome changes nothing")
    func renewAndFence() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        _ = try queue([entry(1)], leasedTo: "a", on: connection)
        #expect(try PostgresOutbox.renew(entry(1), node: "b", for: .seconds(60), on: connection) == false, "a holds it")
        #expect(try PostgresOutbox.renew(entry(1), node: "a", for: .seconds(60), on: connection))
        // a's try fails and is to be retried: the count moves on, a keeps the lease.
        let retryAt = Self.now.advanced(by: .seconds(1))
        #expect(try PostgresOutbox.finish(entry(1), state: .retry(at: retryAt), error: "HTTP 503", node: "a", now: Self.now, lease: .seconds(60), on: connection))
        #expect(try PostgresOutbox.renew(entry(1), node: "a", for: .seconds(60), on: connection) == false, "a copy that still counts 0 tries is stale")
        var second = entry(1)
        second.attempts = 1
        // The same outcome arriving twice, or from a node that lost the lease, does nothing.
        #expect(try PostgresOutbox.finish(entry(1), state: .done, error: nil, node: "a", now: Self.now, lease: .seconds(60), on: connection) == false)
        #expect(try PostgresOutbox.finish(second, state: .done, error: nil, node: "b", now: Self.now, lease: .seconds(60), on: connection) == false)
        #expect(try connection.execute("SELECT attempts, next_ns, last_error, claimed_by FROM symphony_outbox").values == [
            ["1", "\(retryAt.nanosecondsSinceEpoch)", "HTTP 503", "a"]
        ])
        // Dead: kept, unleased, with why; then no longer claimable nor due.
        #expect(try PostgresOutbox.renew(second, node: "a", for: .seconds(60), on: connection))
        #expect(try PostgresOutbox.finish(second, state: .dead(reason: "gave up"), error: nil, node: "a", now: Self.now, lease: .seconds(60), on: connection))
        #expect(try connection.execute("SELECT attempts, state, last_error, claimed_by FROM symphony_outbox").values == [["2", "2", "gave up", nil]])
        #expect(try PostgresOutbox.due(now: retryAt.advanced(by: .seconds(60)), on: connection) == 0)
    }

    @Test("a stopping node releases its leases: another node claims them at once; done removes the entry")
    func releaseAndDone() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        _ = try queue([entry(1), entry(2)], leasedTo: "a", on: connection)
        _ = try queue([entry(3)], leasedTo: "b", on: connection)
        try PostgresOutbox.release(node: "a", on: connection)
        let claimed = try PostgresOutbox.claim(limit: 10, node: "c", now: Self.now, lease: .seconds(60), sealer: sealer, on: connection)
        #expect(Set(claimed.map(\.key)) == ["note/e1/0", "note/e2/0"], "b's lease still holds")
        #expect(try PostgresOutbox.renew(entry(1), node: "c", for: .seconds(60), on: connection))
        #expect(try PostgresOutbox.finish(entry(1), state: .done, error: nil, node: "c", now: Self.now, lease: .seconds(60), on: connection))
        #expect(try connection.execute("SELECT key FROM symphony_outbox ORDER BY key").values == [["note/e2/0"], ["note/e3/0"]])
    }

    @Test("an entry whose sealed request was altered is made dead when claimed, never tried")
    func alteredRequest() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        _ = try queue([entry(1)], leasedTo: nil, on: connection)
        try connection.execute("UPDATE symphony_outbox SET request = overlay(request placing '\\xff'::bytea from 30 for 1)")
        #expect(try PostgresOutbox.claim(limit: 10, node: "a", now: Self.now, lease: .seconds(60), sealer: sealer, on: connection).isEmpty)
        #expect(try connection.execute("SELECT state, last_error FROM symphony_outbox").values == [["2", "the stored request cannot be opened with this node's keys"]])
    }
}
