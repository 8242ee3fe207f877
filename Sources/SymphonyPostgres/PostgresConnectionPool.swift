import SymphonyConcurrency

/// Connections to one database for work that arrives on any thread (HTTP submissions, metric
/// scrapes): each call borrows an idle connection, or opens one, and gives it back when done. A
/// connection whose work threw is closed rather than reused (it may have lost its server), and
/// when it had lost its server the idle ones are closed too, so the next call connects afresh: a
/// database restart costs the calls in flight, not the process.
public final class PostgresConnectionPool: Sendable {
    private let url: String
    private let maximumIdle: Int
    private let idle: Locked<[Held]>

    // @unchecked Sendable: a held connection is reachable from one thread at a time — it is either
    // in the idle list (touched only under its lock) or borrowed by the one call that took it.
    private final class Held: @unchecked Sendable {
        let connection: PostgresConnection
        init(_ connection: PostgresConnection) { self.connection = connection }
    }

    /// A pool for `url` that keeps up to `maximumIdle` connections open between calls.
    public init(url: String, maximumIdle: Int = 8) {
        self.url = url
        self.maximumIdle = maximumIdle
        idle = Locked([])
    }

    /// Runs `body` on a connection of its own; rethrows what it throws (or why no connection opened).
    /// When the connection was lost, the idle ones are closed too: what ended one (a server restart)
    /// most likely ended them all, and the next calls connect afresh.
    public func withConnection<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        let held = try idle.withLock { $0.popLast() } ?? Held(PostgresConnection(url: url))
        let result: Result
        do {
            result = try body(held.connection)
        } catch {
            if !held.connection.isConnected { idle.withLock { $0.removeAll() } }
            throw error
        }
        idle.withLock { list in
            if list.count < maximumIdle { list.append(held) }
        }
        return result
    }
}
