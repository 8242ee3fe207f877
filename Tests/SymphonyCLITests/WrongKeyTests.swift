import Foundation
import Testing

/// A key that is not the history's: commands say whose key the history needs.
@Suite struct WrongKeyTests {
    @Test("history (where it would show payloads) and audit verify name the history's key and the one given, instead of hiding or calling it broken")
    func wrongKey() throws {
        let directory = try freshDirectory()
        let rules = directory + "/rules.yaml"
        try Data("rules:\n  - {name: r, on: tick, actions: [stop]}\n".utf8).write(to: URL(fileURLWithPath: rules))
        let db = directory + "/h.db"
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/right.key"]).status == 0)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/wrong.key"]).status == 0)
        let run = try CommandRunner.run(["run", rules, "--db", db, "--key-file", directory + "/right.key"], stdin: #"{"type":"tick","id":"t1","payload":{"n":1}}"# + "\n")
        #expect(run.status == 0, "\(run.stderr)")

        let verify = try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", directory + "/wrong.key"])
        #expect(verify.status == 1)
        #expect(verify.problems.contains("cannot verify with this key: the history is signed under key "), "\(verify.stderr)")
        #expect(!verify.problems.contains("broken"))
        let right = try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", directory + "/right.key"])
        #expect(right.status == 0, "\(right.stderr)")

        let trace = try CommandRunner.run(["history", "--db", db, "--key-file", directory + "/wrong.key", "--trace", "t1"])
        #expect(trace.status == 0)
        #expect(trace.problems.contains("payloads are not shown: the history is written under key "), "\(trace.stderr)")
        let table = try CommandRunner.run(["history", "--db", db, "--key-file", directory + "/wrong.key"])
        #expect(!table.problems.contains("payloads are not shown"), "a table shows no payloads: nothing to warn about")
        let good = try CommandRunner.run(["history", "--db", db, "--key-file", directory + "/right.key", "--trace", "t1"])
        #expect(!good.problems.contains("payloads are not shown"))
        #expect(good.stdout.contains(#"payload {"n":1}"#), "\(good.stdout)")
    }
}
