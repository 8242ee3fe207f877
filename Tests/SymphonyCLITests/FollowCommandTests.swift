import Foundation
import Testing

/// `symphony run --follow FILE` reads a file as it grows, like `tail -F`, and a later run goes on
/// where the last one stopped: every line is handled once across rotation, truncation and restarts.
@Suite(.timeLimit(.minutes(12))) struct FollowCommandTests {
    func line(_ n: Int) -> String { #"{"type": "log.line", "payload": {"n": \#(n)}}"# + "\n" }

    func append(_ lines: ClosedRange<Int>, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        for n in lines { try handle.write(contentsOf: Data(line(n).utf8)) }
    }

    /// The n of each audit message in `output` (one JSON outcome per line).
    func seen(_ output: String) -> [Int] {
        output.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: #""message":"saw "#) else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    @Test("appended lines are read as they come; a rotated file is read to its end, then the new one; a truncated one again from its start; a restart reads on from where the last run stopped")
    func followsAcrossRotationTruncationAndRestart() throws {
        let directory = try freshDirectory()
        let log = directory + "/app.log"
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            rules:
              - name: see
                on: log.line
                actions: [{audit: "saw {{ payload.n }}"}]
            """.utf8))
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let arguments = ["run", "--rules", rules, "--events", log, "--follow", "--db", directory + "/h.db", "--key-file", directory + "/key", "--output", "ndjson"]

        let first = try RunningCommand(arguments)
        try append(1...3, to: log)
        #expect(first.waitForOutput(containing: #""saw 3""#))
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")  // rotated
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        try append(4...5, to: log)
        #expect(first.waitForOutput(containing: #""saw 5""#))
        try Data().write(to: URL(fileURLWithPath: log))  // truncated
        try append(6...6, to: log)
        #expect(first.waitForOutput(containing: #""saw 6""#))
        let stopped = first.stop(with: SIGTERM)
        #expect(stopped.status == 143)
        #expect(seen(stopped.stdout) == [1, 2, 3, 4, 5, 6])
        #expect(stopped.stderr.contains("was truncated; reading it again from its start"))

        try append(7...9, to: log)  // written while nothing runs
        let second = try RunningCommand(arguments)
        #expect(second.waitForOutput(containing: #""saw 9""#))
        try append(10...10, to: log)
        #expect(second.waitForOutput(containing: #""saw 10""#))
        let again = second.stop(with: SIGTERM)
        #expect(seen(again.stdout) == [7, 8, 9, 10], "the restart read on from its stored position: no line twice, none lost")
    }
}

/// SIGHUP reloads the rule set of a running `symphony run --follow`.
@Suite(.timeLimit(.minutes(12))) struct ReloadCommandTests {
    func rules(_ version: String) -> String {
        """
        rules:
          - name: see
            on: log.line
            actions: [{audit: "\(version) {{ payload.n }}"}]
          - name: alarm
            on: log.line
            count: {key: "{{ payload.k }}", at_least: 3, within: 1h}
            actions: [{audit: "alarm {{ window.count }}"}]
        """
    }

    /// Waits until the audit trail has a `rules.load` record whose details start with `prefix`.
    func waitForAudit(_ db: String, _ prefix: String) -> Bool {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let result = try? CommandRunner.run(["audit", "list", "--db", db, "--operation", "rules.load"])
            if result?.stdout.contains(prefix) == true { return true }
            usleep(20_000)
        }
        return false
    }

    @Test("SIGHUP swaps in an edited rule set — a count window of an unchanged rule goes on — and refuses a broken one, keeping the running rules")
    func reloads() throws {
        let directory = try freshDirectory()
        let log = directory + "/app.log"
        let rulesPath = directory + "/rules.yaml"
        let db = directory + "/h.db"
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        try rules("v1").write(toFile: rulesPath, atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let command = try RunningCommand(
            ["run", "--rules", rulesPath, "--events", log, "--follow", "--db", db, "--key-file", directory + "/key", "--output", "ndjson"])
        func append(_ n: Int) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((#"{"type": "log.line", "payload": {"n": \#(n), "k": "a"}}"# + "\n").utf8))
            try handle.close()
        }
        try append(1)
        try append(2)
        #expect(command.waitForOutput(containing: #""v1 2""#))
        try rules("v2").write(toFile: rulesPath, atomically: true, encoding: .utf8)
        kill(command.process.processIdentifier, SIGHUP)
        #expect(waitForAudit(db, "reloaded on SIGHUP"))
        try append(3)
        #expect(command.waitForOutput(containing: #""v2 3""#))
        #expect(command.waitForOutput(containing: #""alarm 3""#), "the unchanged count rule kept its window across the reload")
        try "rules: [{name: broken}]".write(toFile: rulesPath, atomically: true, encoding: .utf8)
        kill(command.process.processIdentifier, SIGHUP)
        #expect(waitForAudit(db, "reload on SIGHUP refused"))
        try append(4)
        #expect(command.waitForOutput(containing: #""v2 4""#))
        let result = command.stop(with: SIGTERM)
        #expect(result.stderr.contains("symphony: SIGHUP: the rule set has errors; the running rules stay in force"))
        #expect(!result.stdout.contains(#""v1 3""#))
    }
}
