import SymphonyCrypto

/// Walks one history table in row order and digests, link by link, the rows each link covers
/// (for `ChainVerifier` and the genesis link). Rows without a link (written before the chain)
/// belong to link 1.
final class ChainTableCursor {
    /// A column's declared type, which decides its canonical encoding.
    enum Column {
        case integer, text, blob
        /// A text column added after rows were written: NULL adds no bytes (so older rows encode
        /// as they did), a value encodes as text.
        case addedText
    }

    /// The table, as messages name it.
    let table: String
    private let statement: SQLiteStatement
    private let columns: [Column]
    private(set) var hasRow: Bool
    /// Rows digested so far.
    private(set) var consumed = 0

    /// `select` reads the link first, then `columns` in their documented order, in row order.
    init(database: SQLiteDatabase, table: String, select: String, columns: [Column]) throws {
        self.table = table
        self.columns = columns
        statement = try database.prepare(select)
        try statement.bind([])
        hasRow = try statement.step()
    }

    /// The link of the current row (1 when it has none).
    var currentLink: Int64 { statement.isNull(0) ? 1 : statement.int(0) }

    /// Feeds the canonical bytes of the rows of `link` to `digest`, a row at a time (a link may
    /// cover a whole legacy history). Throws `OutOfOrder` when a row of an earlier link follows
    /// (rows were moved or inserted), `WrongType` when a value is not stored as its column
    /// declares (a text id rewritten as a blob of the same bytes would otherwise digest the same).
    func digestRows(of link: Int64, into digest: SHA256Stream) throws {
        var encoding = ChainRowEncoding(reservingCapacity: 4_096)
        while hasRow {
            guard statement.storage(0) == .integer || statement.storage(0) == .null else { throw WrongType(table: table, column: "link") }
            let rowLink = currentLink
            if rowLink > link { return }
            if rowLink < link { throw OutOfOrder(table: table, rowLink: rowLink, link: link) }
            encoding.removeAll()
            for (offset, column) in columns.enumerated() {
                let index = Int32(offset + 1)
                let stored = statement.storage(index)
                switch (column, stored) {
                case (.addedText, .null): break
                case (_, .null): encoding.integer(nil)  // every NULL encodes as one tag byte, whatever the column
                case (.addedText, .text): encoding.text(statement.text(index))
                case (.integer, .integer): encoding.integer(statement.int(index))
                case (.text, .text): encoding.text(statement.text(index))
                case (.blob, .blob): encoding.blob(statement.blob(index))
                default: throw WrongType(table: table, column: "column \(offset + 1)")
                }
            }
            digest.update(encoding.bytes)
            consumed += 1
            hasRow = try statement.step()
        }
    }

    /// A row of an earlier link found after the rows of a later one.
    struct OutOfOrder: Error {
        let table: String
        let rowLink: Int64
        let link: Int64
    }

    /// A value stored with another type than its column declares.
    struct WrongType: Error {
        let table: String
        let column: String
    }

    /// The cursors over every chained table, in the order a link's digests take them (`scheduled`
    /// has two: its entries, then its changes).
    static func all(in database: SQLiteDatabase) throws -> [ChainTableCursor] {
        // A schema 6 database (not yet migrated by a run) has no `scheduled.key`: as if all NULL.
        let key = try database.hasColumn("key", in: "scheduled") ? "key" : "NULL"
        return [
            try ChainTableCursor(
                database: database, table: "events",
                select: "SELECT link, id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload FROM events ORDER BY rowid",
                columns: [.text, .text, .integer, .text, .integer, .integer, .text, .text, .integer, .blob]),
            try ChainTableCursor(
                database: database, table: "executions",
                select:
                    "SELECT link, event_id, rule, kind, outcome, error, message, started_ns, duration_us, derived_event_id, \(key) FROM executions ORDER BY seq",
                columns: [.text, .text, .integer, .integer, .text, .text, .integer, .integer, .text, .addedText]),
            try ChainTableCursor(
                database: database, table: "scheduled",
                select: "SELECT link, id, interval_ns, event_id, event_type, priority, origin_rule, envelope, \(key) FROM scheduled ORDER BY rowid",
                columns: [.text, .integer, .text, .text, .integer, .text, .blob, .addedText]),
            try ChainTableCursor(
                database: database, table: "scheduled_changes",
                select: "SELECT link, seq, entry_id, state, due_ns, fired_ns, late FROM scheduled_changes ORDER BY seq",
                columns: [.integer, .text, .integer, .integer, .integer, .integer]),
            try ChainTableCursor(
                database: database, table: "dead_letters",
                select: "SELECT link, seq, source, line, reason, received_ns, content FROM dead_letters ORDER BY seq",
                columns: [.integer, .text, .integer, .text, .integer, .blob]),
            try ChainTableCursor(
                database: database, table: "audit",
                select: "SELECT link, seq, time_ns, principal, operation, target, outcome, details FROM audit ORDER BY seq",
                columns: [.integer, .integer, .text, .text, .text, .text, .text]),
        ]
    }

    /// The digests of `link`'s rows, from the cursors `all(in:)` made (advancing them).
    static func digests(of link: Int64, cursors: [ChainTableCursor]) throws -> TableDigests {
        func digest(_ tables: ArraySlice<ChainTableCursor>) throws -> [UInt8] {
            let stream = SHA256Stream()
            for cursor in tables { try cursor.digestRows(of: link, into: stream) }
            return stream.finish()
        }
        return TableDigests(
            events: try digest(cursors[0...0]), executions: try digest(cursors[1...1]), scheduled: try digest(cursors[2...3]),
            deadLetters: try digest(cursors[4...4]), audit: try digest(cursors[5...5]))
    }
}
