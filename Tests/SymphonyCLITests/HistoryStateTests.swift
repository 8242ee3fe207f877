import Foundation
@testable import SymphonyStore
import Testing

/// `symphony run` and the history's state on disk: rejected lines kept, a write failure's exit
/// code, and a database whose default key went missing.
@Suite(.timeLimit(.minutes(12))) struct HistoryStateTests {
    static let rules = "rules:\n  - {name: r, on: a.b, actions: [{audit: seen}]}\n"

    func rulesFile() throws -> String { try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8)) }

    @Test("rejected lines are kept in dead_letters with their line number and the reason printed on stderr")
    func rejectedLinesKept() throws {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let input = "{\"type\":\"a.b\"}\nnot json\n{\"payload\":{}}\n{\"type\":\"x\",\"priority\":12}\n"
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--db", db, "--key-file", key], stdin: input)
        #expect(result.status == 65)
        let rows = try SQLiteDatabase(path: db).prepare("SELECT source, line, reason FROM dead_letters ORDER BY seq").rows { ($0.text(0), $0.int(1), $0.text(2)) }
        #expect(rows.map(\.0) == ["<stdin>", "<stdin>", "<stdin>"])
        #expect(rows.map(\.1) == [2, 3, 4])
        let printed = result.stderrLines.filter { $0.contains(": rejected: ") }.map { String($0.split(separator: ": rejected: ", maxSplits: 1)[1]) }
        #expect(rows.compactMap(\.2) == printed)
        #expect(printed.count == 3)
    }

    @Test("history rows that cannot be written make the run exit 74 and say why")
    func writeFailureExits74() throws {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let first = try CommandRunner.run(["run", "--rules", try rulesFile(), "--db", db, "--key-file", key], stdin: "{\"type\":\"a.b\"}\n")
        #expect(first.status == 0)
        try SQLiteDatabase(path: db).execute("CREATE TRIGGER boom BEFORE INSERT ON executions BEGIN SELECT RAISE(ABORT, 'boom'); END;")
        let failed = try CommandRunner.run(["run", "--rules", try rulesFile(), "--db", db, "--key-file", key], stdin: "{\"type\":\"a.b\"}\n")
        #expect(failed.status == 74)
        #expect(failed.stderr.contains("symphony: history: "))
        #expect(failed.stderr.contains("boom"))
    }

    @Test("a database whose default key is missing is not given a new key: the run stops with exit 1")
    func missingDefaultKey() throws {
        let directory = try freshDirectory()
        let rules = try rulesFile()
        let first = try CommandRunner.run(["run", "--rules", rules], stdinData: Data("{\"type\":\"a.b\"}\n".utf8), directory: directory)
        #expect(first.status == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/.symphony/key"))
        try FileManager.default.removeItem(atPath: directory + "/.symphony/key")
        let second = try CommandRunner.run(["run", "--rules", rules], stdinData: Data("{\"type\":\"a.b\"}\n".utf8), directory: directory)
        #expect(second.status == 1)
        #expect(second.stderr.hasPrefix("symphony: the history database '.symphony/history.db' exists but its key '.symphony/key' is missing"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/.symphony/key"))
    }
}
