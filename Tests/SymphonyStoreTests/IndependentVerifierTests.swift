import Foundation
import SymphonyCrypto
import SymphonyEvents
import Testing

@testable import SymphonyStore

/// The documented chain format, checked from outside: docs/examples/verify_history.py, written
/// from docs/reference/history-database.md with Python's standard library only, must agree with `AuditReader.verify`
/// on an intact history, a migrated one, and tampered ones.
@Suite(.timeLimit(.minutes(12))) struct IndependentVerifierTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/examples/verify_history.py").path

    static func python(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func keyFile(for history: ChainedHistory) throws -> String {
        let path = history.directory + "/key"
        try KeyFile.write(history.key, to: path)
        return path
    }

    @Test("the Python verifier finds an intact and a migrated history intact, and a tampered one broken, as Swift does")
    func agrees() throws {
        let history = try ChainedHistory()
        try HistoryChainMigrationTests.legacyDatabase(history)
        try history.writeSession("a")
        try history.writeSession("b")
        let key = try keyFile(for: history)
        #expect(try Self.python([history.path, key]) == 0)
        for sql in [
            "UPDATE executions SET message = 'x' WHERE seq = 2", "DELETE FROM events WHERE id = 'd-b'",
            "UPDATE scheduled SET state = 'done' WHERE id = 's-later-a'", "UPDATE audit SET details = 'x' WHERE seq = 1",
            "UPDATE events SET id = CAST(id AS BLOB) WHERE id = 'd-b'",
        ] {
            let copy = try ChainedHistory()
            try FileManager.default.copyItem(atPath: history.path, toPath: copy.path)
            try copy.tamper(sql)
            #expect(try Self.python([copy.path, key]) == 2, "\(sql)")
            #expect(try { if case .broken = try copy.verify() { true } else { false } }(), "\(sql)")
        }
    }

    @Test("after a prune, the Python verifier checks the chain from its signed start, and finds tampering as Swift does")
    func agreesAfterPrune() throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        try history.writeSession("b")
        let store = try HistoryStore(path: history.path, key: history.key)
        let pruned = try store.prune(before: .now(), principal: "user:ops")
        try store.close()
        #expect(pruned.links > 0)
        #expect(pruned.carried == 2)  // s-later-a and s-later-b are still pending
        try history.writeSession("c")
        #expect(try history.verify() == .intact(links: Int(try history.count("SELECT count(*) FROM chain")), rows: Int(try Self.rows(history))))
        let key = try keyFile(for: history)
        #expect(try Self.python([history.path, key]) == 0)
        for sql in [
            "UPDATE executions SET message = 'x' WHERE seq = (SELECT max(seq) FROM executions)",
            "DELETE FROM chain WHERE seq = (SELECT min(seq) FROM chain)",
            "DROP TRIGGER chain_start_no_update; UPDATE chain_start SET principal = 'user:nobody'",
            "DROP TRIGGER chain_start_no_delete; DELETE FROM chain_start",
            "UPDATE scheduled SET due_ns = 1 WHERE id = 's-later-a'",
        ] {
            let copy = try ChainedHistory()
            try FileManager.default.copyItem(atPath: history.path, toPath: copy.path)
            try copy.tamper(sql)
            #expect(try Self.python([copy.path, key]) == 2, "\(sql)")
            #expect(try { if case .broken = try copy.verify() { true } else { false } }(), "\(sql)")
        }
    }

    static func rows(_ history: ChainedHistory) throws -> Int64 {
        var total: Int64 = 0
        for table in ["events", "executions", "scheduled", "scheduled_changes", "dead_letters", "audit"] {
            total += try history.count("SELECT count(*) FROM \(table)")
        }
        return total
    }
}
