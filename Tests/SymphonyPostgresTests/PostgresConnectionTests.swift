import Foundation
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import SymphonyPostgres
import Testing

/// The libpq connection: values bound and read back exactly, errors that carry the SQLSTATE but
/// never the values, transactions, and URLs whose passwords never reach a message.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresConnectionTests {
    @Test("text, integers, NULL, integer arrays and every byte value go in and come back unchanged")
    func roundTrip() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        let connection = try database.connect()
        let bytes = (0...255).map(UInt8.init) + [0, 0]
        let rows = try connection.execute(
            "SELECT $1::text, $2::bigint, $3::text, $4::bytea, array_length($5::bigint[], 1), $6::bytea",
            [.text("grüße, 'quoted' \"and\" \\ back"), .int(-9_223_372_036_854_775_808), .null, .bytes(bytes), .intArray([1, 2, 3]), .bytes([])])
        #expect(rows.count == 1)
        #expect(rows.text(0, 0) == "grüße, 'quoted' \"and\" \\ back")
        #expect(try rows.int(0, 1) == Int64.min)
        #expect(rows.text(0, 2) == nil)
        #expect(try rows.bytes(0, 3) == bytes)
        #expect(try rows.int(0, 4) == 3)
        #expect(try rows.bytes(0, 5) == [])
        #expect(connection.serverVersion >= 120_000)
        let array = try connection.execute("SELECT array_to_string($1::text[], '|'), cardinality($1::text[])", [.textArray(["a\"b", "c\\d", "e,f", "{}", ""])])
        #expect(array.text(0, 0) == "a\"b|c\\d|e,f|{}|")
        #expect(try array.int(0, 1) == 5)
    }

    @Test("a failed statement throws its SQLSTATE and primary message, never the values bound")
    func errorsHideValues() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        let connection = try database.connect()
        try connection.execute("CREATE TABLE t (secret text PRIMARY KEY)")
        try connection.execute("INSERT INTO t VALUES ($1)", [.text("hunter2-payload")])
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("INSERT INTO t VALUES ($1)", [.text("hunter2-payload")])
        }
        #expect(error.sqlState == "23505")
        #expect(!error.description.contains("hunter2"), "\(error)")
        #expect(error.description.contains("duplicate key"), "\(error)")
        let syntax = try #require(throws: PostgresError.self) { try connection.execute("SELEC 1") }
        #expect(syntax.sqlState == "42601")
        // Data exceptions quote the value in their primary message: replaced by a generic one.
        let conversion = try #require(throws: PostgresError.self) { try connection.execute("SELECT $1::bigint", [.text("hunter2-payload")]) }
        #expect(conversion.sqlState == "22P02")
        #expect(!conversion.description.contains("hunter2"), "\(conversion)")
        let nul = try #require(throws: PostgresError.self) { try connection.execute("SELECT $1::text", [.text("cut\u{0}hunter2")]) }
        #expect(nul.message.contains("NUL"))
        #expect(!nul.description.contains("hunter2"))
    }

    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactions() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        let connection = try database.connect()
        try connection.execute("CREATE TABLE t (n bigint)")
        try connection.transaction { try $0.execute("INSERT INTO t VALUES (1)") }
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try connection.transaction { connection in
                try connection.execute("INSERT INTO t VALUES (2)")
                throw Stop()
            }
        }
        #expect(try connection.execute("SELECT n FROM t").values == [["1"]])
        // Transactions do not nest: an inner one is refused, and the outer one is still whole.
        #expect(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.execute("INSERT INTO t VALUES (3)")
                try connection.transaction { try $0.execute("INSERT INTO t VALUES (4)") }
            }
        }
        #expect(!connection.isInTransaction)
        #expect(try connection.execute("SELECT n FROM t ORDER BY n").values == [["1"]])
    }

    @Test("connection defaults (timeout, keepalives, application name) apply unless the URL sets its own")
    func connectionDefaults() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        #expect(try database.connect().execute("SHOW application_name").text(0, 0) == "symphony")
        let separator = database.url.contains("?") ? "&" : "?"
        let own = try PostgresConnection(url: database.url + separator + "application_name=mine")
        #expect(try own.execute("SHOW application_name").text(0, 0) == "mine")
    }

    @Test("a connection that fails names the server with the password masked")
    func connectFailure() throws {
        let error = try #require(throws: PostgresError.self) {
            try PostgresConnection(url: "postgres://user:s3cret@127.0.0.1:1/db?connect_timeout=2")
        }
        #expect(error.description.contains("postgres://user:***@127.0.0.1:1/db"), "\(error)")
        #expect(!error.description.contains("s3cret"))
        // libpq quotes a badly encoded password in its own message: masked as well.
        let malformed = try #require(throws: PostgresError.self) { try PostgresConnection(url: "postgres://user:s3cr%zzet@127.0.0.1:1/db") }
        #expect(!malformed.description.contains("s3cr"), "\(malformed)")
    }

    @Test("migrating twice, and from two connections at once, makes the tables once")
    func migrateConcurrently() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        let errors = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { try PostgresSchema.migrate(try database.connect()) } catch { errors.withLock { $0.append("\(error)") } }
        }
        #expect(errors.withLock { $0 }.isEmpty, "\(errors.withLock { $0 })")
        let connection = try database.connect()
        #expect(try connection.execute("SELECT count(*) FROM symphony_schema").int(0, 0) == 1)
        try connection.execute("UPDATE symphony_schema SET version = 99")
        let newer = try #require(throws: PostgresError.self) { try PostgresSchema.migrate(connection) }
        #expect(newer.message.contains("schema 99, newer than this symphony knows"))
    }

    @Test("the first node's key id is recorded; a node with another key is refused, naming both ids and never a key")
    func keyCheck() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        try PostgresSchema.checkKey(id: "k-1111", on: connection)
        try PostgresSchema.checkKey(id: "k-1111", on: connection)
        let other = try #require(throws: PostgresError.self) { try PostgresSchema.checkKey(id: "k-2222", on: connection) }
        #expect(other.message.contains("sealed with key k-1111, not with this node's key k-2222"))
    }
}

/// Masking passwords needs no server.
@Suite struct PostgresURLTests {
    @Test("passwords are masked in user:password@ and password= forms; other URLs are unchanged")
    func redaction() {
        #expect(PostgresURL.redacted("postgres://u:pw@h:5432/d") == "postgres://u:***@h:5432/d")
        #expect(PostgresURL.redacted("postgresql://u@h/d?sslmode=require&password=pw&x=1") == "postgresql://u@h/d?sslmode=require&password=***&x=1")
        #expect(PostgresURL.redacted("host=h password=pw dbname=d") == "host=h password=*** dbname=d")
        #expect(PostgresURL.redacted("postgres://u@h/d") == "postgres://u@h/d")
        #expect(PostgresURL.redacted("postgres://u:p@ss@h/d") == "postgres://u:***@h/d")
        #expect(PostgresURL.masking("postgres://u:pw9@h/d", in: "bad token \"pw9\" in postgres://u:pw9@h/d") == "bad token \"***\" in postgres://u:***@h/d")
        #expect(PostgresURL.isPostgres("postgres://h/d") && PostgresURL.isPostgres("postgresql://h/d") && !PostgresURL.isPostgres("/tmp/h.db"))
    }
}

/// NOTIFY wake-ups: what lets an idle node's workers sleep until an event is queued.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresNotificationTests {
    @Test("a listener is woken by an enqueue's NOTIFY once it commits, and times out when none comes")
    func enqueueWakesListener() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let listener = try database.connect()
        try listener.listen(PostgresEventQueue.channel)
        #expect(try listener.waitForNotification(timeout: .milliseconds(20)) == nil)
        let writer = try database.connect()
        let sealer = EnvelopeSealer(key: try EncryptionKey(bytes: [UInt8](repeating: 1, count: 32)))
        try writer.transaction { connection in
            try PostgresEventQueue.enqueue([try SealedEvent(sealing: Event(type: "t"), with: sealer)], at: .now(), on: connection)
            // Not before the commit.
            #expect(try listener.waitForNotification(timeout: .milliseconds(20)) == nil)
        }
        #expect(try listener.waitForNotification(timeout: .seconds(60)) == PostgresEventQueue.channel)
        #expect(try listener.waitForNotification(timeout: .milliseconds(20)) == nil)
        #expect(throws: PostgresError.self) { try listener.listen("bad; DROP TABLE x") }
    }
}

/// The pool that HTTP submissions borrow connections from.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresConnectionPoolTests {
    @Test("a pool reuses an idle connection, and closes one whose work threw: after the server ended it, the next call connects afresh")
    func reuseAndRecover() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        let pool = PostgresConnectionPool(url: database.url)
        let first = try pool.withConnection { $0.backendPID }
        #expect(try pool.withConnection { $0.backendPID } == first, "an idle connection is reused")
        // The server ends that connection (a restart, an administrator): the call on it fails…
        try database.connect().execute("SELECT pg_terminate_backend($1)", [.int(Int64(first))])
        try database.waitUntilEnded(backend: first)
        #expect(throws: PostgresError.self) { try pool.withConnection { try $0.execute("SELECT 1") } }
        // …and the pool dropped it: the next call runs on a new connection.
        let (second, one) = try pool.withConnection { ($0.backendPID, try $0.execute("SELECT 1").int(0, 0)) }
        #expect(one == 1 && second != first)
    }

    @Test("calls from many threads at once each get a connection of their own")
    func concurrentCalls() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        let pool = PostgresConnectionPool(url: database.url, maximumIdle: 2)
        // Four threads each borrow a connection and hold it until all four have one.
        let arrived = DispatchGroup()
        let release = DispatchSemaphore(value: 0)
        let seen = Locked<[Int32]>([])
        let done = DispatchGroup()
        for _ in 0..<4 {
            arrived.enter()
            done.enter()
            Thread.detachNewThread {
                let pid = try? pool.withConnection { connection -> Int32 in
                    arrived.leave()
                    release.wait()
                    // (A connection used by two calls at once would fail one of them: libpq runs one command at a time.)
                    _ = try connection.execute("SELECT 1")
                    return connection.backendPID
                }
                if let pid { seen.withLock { $0.append(pid) } }
                done.leave()
            }
        }
        #expect(arrived.wait(timeout: .now() + 60) == .success, "every call got a connection while the others held theirs")
        for _ in 0..<4 { release.signal() }
        #expect(done.wait(timeout: .now() + 60) == .success)
        let pids = seen.withLock { $0 }
        #expect(pids.count == 4 && Set(pids).count == 4, "four calls held at once, four connections: \(pids)")
        // Two stay idle, and are reused.
        let again = try pool.withConnection { $0.backendPID }
        #expect(pids.contains(again))
    }
}
