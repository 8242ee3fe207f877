import CSQLite
import Glibc

/// A value bound to or read from a SQLite statement.
enum SQLiteValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])
}

/// A value's storage class as SQLite reports it.
enum SQLiteStorage {
    case null, integer, real, text, blob
}

/// One SQLite connection. Not thread-safe: each is used by one thread at a time (the writer
/// thread, or a reader). This file holds the module's only SQLite C calls.
final class SQLiteDatabase {
    private let handle: OpaquePointer
    /// The database file.
    let path: String

    /// Opens (creating when `create`) the database at `path` with a busy timeout, so concurrent writers wait instead of failing.
    init(path: String, readOnly: Bool = false, create: Bool = true) throws(StoreError) {
        _ = Self.configured
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw StoreError(code: SQLITE_CANTOPEN, message: "'\(path)' is a directory, not a database file.")
        }
        var handle: OpaquePointer?
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        flags |= SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw StoreError(code: result, message: "Cannot open the database '\(path)': \(message).")
        }
        self.handle = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 10_000)
        // Read the header now, so a file that is not a database is named as such, with its path.
        if sqlite3_exec(handle, "PRAGMA schema_version", nil, nil, nil) & 0xFF == SQLITE_NOTADB {
            throw StoreError(code: SQLITE_NOTADB, message: "'\(path)' is not a SQLite database (a history database is made by 'symphony run').")
        }
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Process-wide SQLite settings, applied once before the first connection.
    private static let configured: Bool = {
        csqlite_disable_memory_statistics()
        return true
    }()

    /// Runs SQL that returns no rows (several statements allowed).
    func execute(_ sql: String) throws(StoreError) {
        var error: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &error)
        if result != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(error)
            throw StoreError(code: result, message: message, sql: sql)
        }
    }

    /// A prepared statement.
    func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else {
            throw StoreError(code: result, message: lastMessage, sql: sql)
        }
        return SQLiteStatement(statement, database: self, sql: sql)
    }

    /// Runs `body` in one transaction (BEGIN IMMEDIATE … COMMIT), rolling back when it throws.
    func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in one read transaction (`BEGIN` … `COMMIT`): every query in it sees the same
    /// snapshot of the database, even while another connection commits.
    func readTransaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN")
        defer { try? execute("COMMIT") }
        return try body()
    }

    /// True when `table` has a column named `column`.
    func hasColumn(_ column: String, in table: String) throws -> Bool {
        !(try prepare("SELECT 1 FROM pragma_table_info(?) WHERE name = ?").rows([.text(table), .text(column)], { $0.int(0) }).isEmpty)
    }

    /// True when the schema has a table named `table`.
    func hasTable(_ table: String) throws -> Bool {
        !(try prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").rows([.text(table)], { $0.int(0) }).isEmpty)
    }

    /// The schema version (`PRAGMA user_version`).
    var userVersion: Int {
        get throws(StoreError) {
            let statement = try prepare("PRAGMA user_version")
            guard try statement.step() else { return 0 }
            return Int(statement.int(0))
        }
    }

    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// Rows the last INSERT, UPDATE or DELETE on this connection changed.
    var changes: Int { Int(sqlite3_changes(handle)) }
}

/// A prepared statement; finalized when released.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private let database: SQLiteDatabase
    let sql: String

    init(_ handle: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Resets the statement and binds `values` to its parameters in order (through the typed binds below).
    func bind(_ values: [SQLiteValue]) throws(StoreError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null: try bind(index, nil as Int64?)
            case .int(let number): try bind(index, number)
            case .text(let text): try bind(index, text)
            case .blob(let bytes): try bind(index, bytes)
            }
        }
    }

    // The writer's path: bind each parameter by position, then `execute()`. Every parameter is
    // bound on every use, so bindings are not cleared: SQLite keeps each parameter's buffer and
    // copies the next value into it instead of allocating.

    /// Binds an integer to parameter `index` (1-based).
    func bind(_ index: Int32, _ value: Int64) throws(StoreError) {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds an integer, or NULL.
    func bind(_ index: Int32, _ value: Int64?) throws(StoreError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds text (copied by SQLite), or NULL.
    func bind(_ index: Int32, _ value: String?) throws(StoreError) {
        guard var value else { return try check(sqlite3_bind_null(handle, index)) }
        let result = value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { characters in
                sqlite3_bind_text(handle, index, characters.baseAddress, Int32(characters.count), csqlite_transient())
            }
        }
        try check(result)
    }

    /// Binds a blob (copied by SQLite), or NULL.
    func bind(_ index: Int32, _ value: [UInt8]?) throws(StoreError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        let result = value.withUnsafeBytes { buffer in
            // A non-null pointer even for an empty blob, so it is stored as an empty blob, not NULL.
            sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), csqlite_transient())
        }
        try check(result)
    }

    /// Runs the statement with the values bound so far, then resets it for the next use.
    func execute() throws(StoreError) {
        let result = sqlite3_step(handle)
        guard result == SQLITE_DONE || result == SQLITE_ROW else {
            let error = StoreError(code: result, message: database.lastMessage, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
        sqlite3_reset(handle)
    }

    private func check(_ result: Int32) throws(StoreError) {
        guard result == SQLITE_OK else { throw StoreError(code: result, message: database.lastMessage, sql: sql) }
    }

    /// Advances to the next row; false when done.
    func step() throws(StoreError) -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw StoreError(code: result, message: database.lastMessage, sql: sql)
        }
    }

    /// Whether the query, with the values bound so far, has a row; then resets it for the next use.
    func hasRow() throws(StoreError) -> Bool {
        defer { sqlite3_reset(handle) }
        return try step()
    }

    /// Binds, runs to completion, and resets.
    func run(_ values: [SQLiteValue] = []) throws(StoreError) {
        try bind(values)
        while try step() {}
        sqlite3_reset(handle)
    }

    /// Every row of a query, read by `row`.
    func rows<Row>(_ values: [SQLiteValue] = [], _ row: (SQLiteStatement) -> Row) throws(StoreError) -> [Row] {
        try bind(values)
        var rows: [Row] = []
        while try step() { rows.append(row(self)) }
        sqlite3_reset(handle)
        return rows
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    /// How a value is stored: SQLite keeps whatever type was written, whatever the column declares.
    func storage(_ column: Int32) -> SQLiteStorage {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_TEXT: .text
        default: .blob
        }
    }
    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func text(_ column: Int32) -> String? {
        // Read by length, not up to the first NUL: text may hold U+0000.
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
    func blob(_ column: Int32) -> [UInt8]? {
        guard let pointer = sqlite3_column_blob(handle, column) else { return isNull(column) ? nil : [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
