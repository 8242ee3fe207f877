import Foundation
import Testing
@testable import SymphonyStore

/// Only `symphony run`, which is given every key, migrates the history; commands that merely
/// append an audit record leave an older database alone.
@Suite(.timeLimit(.minutes(12))) struct MigrationCommandTests {
    @Test("intents and seal do not migrate an older history (nor record in it); run does")
    func onlyRunMigrates() throws {
        let directory = try freshDirectory()
        let db = directory + "/h.db"
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: t, actions: [stop]}\n".utf8))
        let older = HistorySchema.chainStep - 1  // before the chain: only a run, with the key, migrates it
        try HistorySchema.migrate(SQLiteDatabase(path: db), to: older)

        let environment = ["SYMPHONY_DB": db, "SYMPHONY_KEY_FILE": key]
        #expect(try CommandRunner.run(["intents", "--rules", rules, "some text"], environment: environment).status == 0)
        #expect(try CommandRunner.run(["seal", rules, "-o", directory + "/b.sealed"], environment: environment).status == 0)
        #expect(try SQLiteDatabase(path: db).userVersion == older)
        #expect(!HistoryStore.isCurrentSchema(path: db))

        #expect(try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: "").status == 0)
        #expect(HistoryStore.isCurrentSchema(path: db))
        let operations = try AuditReader(path: db).list(limit: 100).map(\.operation.rawValue)
        #expect(!operations.contains("intents.analyze") && !operations.contains("rules.seal"))
        #expect(try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", key]).status == 0)
    }
}
