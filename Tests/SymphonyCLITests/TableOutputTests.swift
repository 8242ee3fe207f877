import Foundation
import Testing

/// `history` and `audit list` tables: headers, aligned columns, fitted to `COLUMNS` by clipping
/// the widest free-text column; whole lines when no width is known (a pipe).
@Suite struct TableOutputTests {
    @Test("COLUMNS fits history and audit list tables (free text clipped with …); a pipe gets whole lines; audit list has a header")
    func fitted() throws {
        let directory = try freshDirectory()
        let rules = directory + "/rules.yaml"
        let message = String(repeating: "a long audit message ", count: 6)
        try Data("rules:\n  - {name: note, on: tick, actions: [{audit: \"\(message)\"}]}\n".utf8).write(to: URL(fileURLWithPath: rules))
        let db = directory + "/h.db"
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        #expect(try CommandRunner.run(["run", rules, "--db", db, "--key-file", key], stdin: #"{"type":"tick"}"# + "\n").status == 0)

        let fitted = try CommandRunner.run(["history", "--db", db, "--key-file", key], environment: ["COLUMNS": "120"])
        #expect(fitted.status == 0)
        #expect(fitted.stdoutLines.first?.hasPrefix("STARTED ") == true)
        #expect(fitted.stdoutLines.allSatisfy { $0.count <= 120 }, "\(fitted.stdout)")
        #expect(fitted.stdoutLines.last?.contains("…") == true)
        let whole = try CommandRunner.run(["history", "--db", db, "--key-file", key])
        #expect(whole.stdoutLines.last?.contains(message.trimmingCharacters(in: .whitespaces)) == true, "\(whole.stdout)")

        let audit = try CommandRunner.run(["audit", "list", "--db", db, "--key-file", key], environment: ["COLUMNS": "100"])
        #expect(audit.status == 0)
        #expect(audit.stdoutLines.first?.hasPrefix("SEQ  TIME") == true, "\(audit.stdout)")
        #expect(audit.stdoutLines.allSatisfy { $0.count <= 100 }, "\(audit.stdout)")
    }
}
