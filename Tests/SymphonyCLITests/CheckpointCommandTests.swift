import Foundation
import Testing

@Suite(.timeLimit(.minutes(12))) struct CheckpointCommandTests {
    @Test("run --checkpoint writes the signed head (0600); audit verify --checkpoint finds it, and names a rollback to an older copy")
    func rollbackCaught() throws {
        let directory = try freshDirectory()
        let db = directory + "/h.db"
        let key = directory + "/key"
        let checkpoint = directory + "/checkpoint"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: t, actions: [{audit: seen}]}\n".utf8))
        let run = ["run", "--rules", rules, "--db", db, "--key-file", key, "--checkpoint", checkpoint]
        #expect(try CommandRunner.run(run, stdin: #"{"type":"t"}"# + "\n").status == 0)
        try FileManager.default.copyItem(atPath: db, toPath: directory + "/older.db")
        #expect(try CommandRunner.run(run, stdin: #"{"type":"t"}"# + "\n").status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: checkpoint)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let line = try String(contentsOfFile: checkpoint, encoding: .utf8)
        #expect(line.hasPrefix("symphony-checkpoint v1 "))

        let verify = ["audit", "verify", "--db", db, "--key-file", key, "--checkpoint", checkpoint]
        let intact = try CommandRunner.run(verify)
        #expect(intact.status == 0)
        #expect(intact.stdout.contains("checkpoint at link"))

        try FileManager.default.removeItem(atPath: db)
        try FileManager.default.copyItem(atPath: directory + "/older.db", toPath: db)
        let rolledBack = try CommandRunner.run(verify)
        #expect(rolledBack.status == 2)
        #expect(rolledBack.stderr.contains("it was rolled back to an older copy"))

        // A run on the rolled-back history must not replace the checkpoint that shows the rollback.
        let rerun = try CommandRunner.run(run, stdin: #"{"type":"t"}"# + "\n")
        #expect(rerun.status == 74)
        #expect(rerun.stderr.contains("which this history does not hold: it was rolled back or replaced since"))
        #expect(try String(contentsOfFile: checkpoint, encoding: .utf8) == line)
        let notACheckpoint = try temporaryFile(named: "notes.txt", contents: Data("my notes\n".utf8))
        let clobber = try CommandRunner.run(
            ["run", "--rules", rules, "--db", db, "--key-file", key, "--checkpoint", notACheckpoint], stdin: #"{"type":"t"}"# + "\n")
        #expect(clobber.status == 74)
        #expect(try String(contentsOfFile: notACheckpoint, encoding: .utf8) == "my notes\n")

        let garbage = try temporaryFile(named: "not-a-checkpoint", contents: Data("hello\n".utf8))
        let refused = try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", key, "--checkpoint", garbage])
        #expect(refused.status == 1)
        #expect(refused.stderrLines == ["symphony: '\(garbage)' is not a Symphony checkpoint (one line: symphony-checkpoint v1 …)."])
        let conflicting = try CommandRunner.run(["run", "--rules", rules, "--no-history", "--checkpoint", checkpoint], stdin: "")
        #expect(conflicting.status == 64)
    }
}
