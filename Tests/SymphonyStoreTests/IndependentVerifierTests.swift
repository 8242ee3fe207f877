import Foundation
import SymphonyCrypto
import SymphonyEvents
import Testing

@testable import SymphonyStore

/// The documented chain format, checked from outside: docs/examples/verify_history.py, written
/// from docs/history.md with Python's standard library only, must agree with `AuditReader.verify`
/// on an intact history, a migrated one, and tampered ones.
@Suite(.timeLimit(.minutes(10))) struct IndependentVerifierTests {
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
}
