import Foundation
import Testing
@testable import SymphonyStore

@Suite struct BatchedInsertTests {
    @Test("rows go in full groups and then one by one, in order; discarded rows are never written")
    func groupsAndRemainder() throws {
        let path = NSTemporaryDirectory() + "symphony-batched-" + UUID().uuidString + ".db"
        defer { unlink(path) }
        let database = try SQLiteDatabase(path: path)
        try database.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, n INTEGER NOT NULL, label TEXT)")
        let insert = try BatchedInsert<(Int64, String?)>(database: database, head: "INSERT INTO t (n, label) VALUES", columns: 2, width: 8) {
            statement, first, row in
            try statement.bind(first, row.0)
            try statement.bind(first + 1, row.1)
        }
        try database.transaction {
            for n in 0..<21 { try insert.add((Int64(n), n % 3 == 0 ? nil : "row \(n)")) }
            // 16 rows are written in two groups; 5 wait for finish().
            #expect(try database.prepare("SELECT count(*) FROM t").rows { $0.int(0) } == [16])
            try insert.finish()
        }
        let rows = try database.prepare("SELECT n, label FROM t ORDER BY seq").rows { ($0.int(0), $0.text(1)) }
        #expect(rows.map(\.0) == (0..<21).map(Int64.init))
        #expect(rows.map(\.1) == (0..<21).map { $0 % 3 == 0 ? nil : "row \($0)" })

        try insert.add((100, "dropped"))
        insert.discard()
        try database.transaction { try insert.finish() }
        #expect(try database.prepare("SELECT count(*) FROM t WHERE n = 100").rows { $0.int(0) } == [0])
    }
}
