import Foundation
import SymphonyPostgres
import Testing

/// A database of its own for one test, in the cluster SYMPHONY_TEST_POSTGRES names (`make test`
/// starts a throwaway one on loopback); dropped by `drop()`.
struct PostgresTestDatabase {
    /// The cluster's URL, when the tests were given one.
    static let clusterURL = ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"]

    /// Why the PostgreSQL tests are skipped, when they are.
    static let skipReason: Comment =
        "SYMPHONY_TEST_POSTGRES is not set: run `make test`, which starts a throwaway PostgreSQL cluster, or point it at one (postgres://USER@127.0.0.1:PORT/postgres)"

    /// True when a cluster was given.
    static var isAvailable: Bool { clusterURL != nil }

    let name: String
    let url: String

    /// Creates an empty database with the tables made.
    init(migrated: Bool = true) throws {
        let cluster = try #require(Self.clusterURL)
        name = "symphony_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try PostgresConnection(url: cluster).execute("CREATE DATABASE \(name)")
        // The cluster URL ends in /DATABASE (optionally ?params): swap the database name.
        var components = URLComponents(string: cluster)!
        components.path = "/" + name
        url = components.string!
        if migrated { try PostgresSchema.migrate(try PostgresConnection(url: url)) }
    }

    /// A new connection to the database.
    func connect() throws -> PostgresConnection { try PostgresConnection(url: url) }

    /// Waits (up to a minute) until the server has ended the backend `pid` — a closed
    /// connection's transaction is rolled back, and its locks released, only once the server
    /// notices the connection is gone.
    func waitUntilEnded(backend pid: Int32) throws {
        let observer = try connect()
        for _ in 0..<6_000 {
            if try observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [.int(Int64(pid))]).count == 0 { return }
            usleep(10_000)
        }
        Issue.record("backend \(pid) still runs a minute after its connection closed")
    }

    /// Drops the database (its connections are closed first).
    func drop() {
        guard let cluster = Self.clusterURL, let admin = try? PostgresConnection(url: cluster) else { return }
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
