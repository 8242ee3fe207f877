/// Inserts rows into one table `width` at a time with a multi-row `INSERT … VALUES (…), (…), …`,
/// and the remainder one by one: one statement step per `width` rows instead of per row (SQLite
/// then opens the table's cursors once for all of them). Rows keep their order.
///
/// Used only on the history writer thread, inside its transaction: `finish()` before commit,
/// `discard()` when the transaction fails.
final class BatchedInsert<Row> {
    /// Rows per multi-row statement.
    let width: Int
    private let single: SQLiteStatement
    private let multiple: SQLiteStatement
    private let columns: Int32
    private let bind: (SQLiteStatement, Int32, Row) throws -> Void
    private var pending: [Row] = []
    /// Rows the table took since `resetInserted()` (fewer than added when `OR IGNORE` skipped some).
    private(set) var inserted = 0
    private let database: SQLiteDatabase

    /// `head` is the statement up to `VALUES` (for example `INSERT INTO t (a, b) VALUES`);
    /// `bind(statement, first, row)` binds a row's `columns` values from parameter `first` on.
    init(
        database: SQLiteDatabase, head: String, columns: Int, width: Int = 32,
        bind: @escaping (SQLiteStatement, Int32, Row) throws -> Void
    ) throws {
        precondition(columns > 0 && width > 1)
        self.width = width
        self.columns = Int32(columns)
        self.bind = bind
        self.database = database
        let tuple = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        single = try database.prepare(head + " " + tuple)
        multiple = try database.prepare(head + " " + Array(repeating: tuple, count: width).joined(separator: ", "))
        pending.reserveCapacity(width)
    }

    /// Queues `row`; writes a full group.
    func add(_ row: Row) throws {
        pending.append(row)
        guard pending.count == width else { return }
        for (offset, row) in pending.enumerated() { try bind(multiple, Int32(offset) * columns + 1, row) }
        pending.removeAll(keepingCapacity: true)
        try multiple.execute()
        inserted += database.changes
    }

    /// Writes the rows still queued.
    func finish() throws {
        for row in pending {
            try bind(single, 1, row)
            try single.execute()
            inserted += database.changes
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Starts counting inserted rows from zero.
    func resetInserted() {
        inserted = 0
    }

    /// Forgets queued rows (their transaction is being rolled back).
    func discard() {
        pending.removeAll(keepingCapacity: true)
    }
}
