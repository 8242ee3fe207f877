import CPostgres
import Glibc
import Synchronization

/// One connection to PostgreSQL through libpq. Not thread-safe: each is used by one thread at a
/// time (an owner holds it behind a lock or on a thread of its own). This file holds the module's
/// only libpq calls.
public final class PostgresConnection {
    private let connection: OpaquePointer

    /// Defaults the URL may override: give up connecting after 10 s, and let TCP keepalives find
    /// a server that went away while a node waits.
    static let connectionDefaults = [("connect_timeout", "10"), ("keepalives", "1"), ("keepalives_idle", "30"), ("application_name", "symphony")]

    /// Connects to `url` (`postgres://user@host:port/database?…`, or libpq's `key=value` form).
    /// A failure names the server as the URL does, with any password masked.
    public init(url: String) throws {
        // The defaults first, then the URL (expanded as `dbname`): its own settings win.
        let pairs = Self.connectionDefaults + [("dbname", url)]
        let keywords = pairs.map { strdup($0.0) } + [nil]
        let values = pairs.map { strdup($0.1) } + [nil]
        defer { for pointer in keywords + values { free(pointer) } }
        let opened: OpaquePointer? = keywords.withUnsafeBufferPointer { keywordPointers in
            values.withUnsafeBufferPointer { valuePointers in
                keywordPointers.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constKeywords in
                    valuePointers.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constValues in
                        PQconnectdbParams(constKeywords.baseAddress, constValues.baseAddress, 1)
                    }
                }
            }
        }
        guard let connection = opened else { throw PostgresError(message: "cannot allocate a connection to \(PostgresURL.redacted(url))") }
        guard PQstatus(connection) == CONNECTION_OK else {
            // libpq may quote parts of the URL (a badly encoded password, say): mask them too.
            let reason = PostgresURL.masking(url, in: Self.trimmed(PQerrorMessage(connection)))
            PQfinish(connection)
            throw PostgresError(message: "cannot connect to \(PostgresURL.redacted(url)): \(reason)")
        }
        self.connection = connection
        // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        // `PostgresRows.bytes` reads the hex form, whatever the server's default; text travels as
        // UTF-8 whatever PGCLIENTENCODING says (the chains hash the text each node sent).
        try execute("SET bytea_output = 'hex'")
        try execute("SET client_encoding = 'UTF8'")
    }

    /// True while a transaction is open on this connection.
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// False once the connection to the server is lost (the server ended it, or the network failed).
    public var isConnected: Bool { PQstatus(connection) == CONNECTION_OK }

    deinit { PQfinish(connection) }

    /// Statements this process sent to PostgreSQL (each one round trip), on all connections.
    public static var statementsSent: Int { sent.load(ordering: .relaxed) }
    private static let sent = Atomic<Int>(0)

    /// The server's version as a number (150020 for 15.20).
    public var serverVersion: Int { Int(PQserverVersion(connection)) }

    /// This connection's server process id: what `pg_terminate_backend` takes.
    public var backendPID: Int32 { PQbackendPID(connection) }

    /// Runs one statement with `$1, $2, …` bound to `parameters`; returns its rows.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresParameter] = []) throws -> PostgresRows {
        var values: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        values.reserveCapacity(parameters.count)
        defer { for value in values { free(value) } }
        for parameter in parameters {
            switch parameter {
            case .null:
                values.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                // C strings end at NUL: a text holding one would silently be cut short.
                if text.utf8.contains(0) { throw PostgresError(message: "parameter \(values.count + 1) holds a NUL character, which PostgreSQL text cannot", sql: sql) }
                values.append(strdup(text))
                lengths.append(0)
                formats.append(0)
            case .int(let value):
                values.append(strdup(String(value)))
                lengths.append(0)
                formats.append(0)
            case .intArray(let array):
                values.append(strdup("{" + array.map(String.init).joined(separator: ",") + "}"))
                lengths.append(0)
                formats.append(0)
            case .textArray(let array):
                // Array literal: each element double-quoted, with " and \ escaped by a backslash.
                if array.contains(where: { $0.utf8.contains(0) }) {
                    throw PostgresError(message: "parameter \(values.count + 1) holds a NUL character, which PostgreSQL text cannot", sql: sql)
                }
                values.append(Self.arrayLiteral(array))
                lengths.append(0)
                formats.append(0)
            case .bytes(let bytes):
                let copy = malloc(max(1, bytes.count))!.assumingMemoryBound(to: CChar.self)
                bytes.withUnsafeBytes { source in
                    if let base = source.baseAddress { memcpy(copy, base, bytes.count) }
                }
                values.append(copy)
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        Self.sent.add(1, ordering: .relaxed)
        let result: OpaquePointer? = values.withUnsafeBufferPointer { valuePointers in
            valuePointers.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constValues in
                PQexecParams(connection, sql, Int32(parameters.count), nil, constValues.baseAddress, lengths, formats, 0)
            }
        }
        guard let result else { throw PostgresError(message: Self.trimmed(PQerrorMessage(connection)), sql: sql) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            break
        default:
            // The primary message only: DETAIL and CONTEXT may quote the values bound.
            // Data exceptions (class 22) quote the offending value in the primary message too.
            let state = PQresultErrorField(result, Self.diagnosticSQLState).map { String(cString: $0) }
            var message = PQresultErrorField(result, Self.diagnosticMessagePrimary).map { String(cString: $0) } ?? Self.trimmed(PQerrorMessage(connection))
            if state?.hasPrefix("22") == true { message = "a value does not fit its column or type (data exception)" }
            throw PostgresError(sqlState: state, message: message, sql: sql)
        }
        let rows = Int(PQntuples(result))
        let columns = Int(PQnfields(result))
        var table: [[String?]] = []
        table.reserveCapacity(rows)
        for row in 0..<rows {
            var fields: [String?] = []
            fields.reserveCapacity(columns)
            for column in 0..<columns {
                if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                    fields.append(nil)
                } else {
                    fields.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            table.append(fields)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(values: table, affected: affected)
    }

    /// A `text[]` literal in memory from `malloc` (freed with the other values): each element
    /// double-quoted, with `"` and `\` escaped by a backslash.
    private static func arrayLiteral(_ array: [String]) -> UnsafeMutablePointer<CChar> {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var literal: [UInt8] = [UInt8(ascii: "{")]
        literal.reserveCapacity(array.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, element) in array.enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            literal.append(quote)
            for byte in element.utf8 {
                if byte == quote || byte == backslash { literal.append(backslash) }
                literal.append(byte)
            }
            literal.append(quote)
        }
        literal += [UInt8(ascii: "}"), 0]
        let copy = malloc(literal.count)!.assumingMemoryBound(to: CChar.self)
        literal.withUnsafeBytes { source in _ = memcpy(copy, source.baseAddress!, literal.count) }
        return copy
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws. A
    /// serialization failure or deadlock runs the whole transaction again, up to `attempts` times.
    /// It is READ COMMITTED whatever the server's default: each statement sees what committed
    /// before it started (a read after taking a lock sees what the lock's last holder wrote).
    /// Transactions do not nest: called inside one, it throws rather than end the outer one.
    @discardableResult
    public func transaction<Result>(attempts: Int = 5, _ body: (PostgresConnection) throws -> Result) throws -> Result {
        guard !isInTransaction else { throw PostgresError(message: "a transaction is already open on this connection (transactions do not nest)") }
        var attempt = 1
        while true {
            try execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            do {
                let result = try body(self)
                try execute("COMMIT")
                return result
            } catch let error as PostgresError where error.isTransient && attempt < attempts {
                _ = try? execute("ROLLBACK")
                attempt += 1
            } catch {
                _ = try? execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Subscribes this connection to NOTIFY messages on `channel` (a plain identifier).
    public func listen(_ channel: String) throws {
        guard !channel.isEmpty, channel.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }) else {
            throw PostgresError(message: "a channel name is lowercase letters, digits and '_', not '\(channel)'")
        }
        try execute("LISTEN " + channel)
    }

    /// Waits up to `timeout` for a notification on a channel this connection listens to; returns
    /// the channel, or nil when none came in time. Notifications that arrived meanwhile (during
    /// other statements) are returned first, without waiting.
    public func waitForNotification(timeout: Duration) throws -> String? {
        if let channel = nextNotification() { return channel }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else { throw PostgresError(message: "the connection has no socket (closed)") }
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: max(0, seconds * 1_000 + attoseconds / 1_000_000_000_000_000))
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 && errno != EINTR { throw PostgresError(message: "waiting for a notification failed (errno \(errno))") }
        guard ready > 0 else { return nil }
        guard PQconsumeInput(connection) == 1 else { throw PostgresError(message: Self.trimmed(PQerrorMessage(connection))) }
        return nextNotification()
    }

    private func nextNotification() -> String? {
        _ = PQconsumeInput(connection)
        guard let notification = PQnotifies(connection) else { return nil }
        defer { PQfreemem(notification) }
        return String(cString: notification.pointee.relname)
    }

    /// libpq's `PG_DIAG_SQLSTATE` ('C') and `PG_DIAG_MESSAGE_PRIMARY` ('M').
    private static let diagnosticSQLState = Int32(UInt8(ascii: "C"))
    private static let diagnosticMessagePrimary = Int32(UInt8(ascii: "M"))

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        var text = Substring(String(cString: message))
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
