import Foundation
import Testing

@testable import SymphonyStore

/// Recorded input is an intake log: after `kill -9`, the next run handles what was recorded and
/// not yet handled, so every recorded input event ends up handled exactly once.
@Suite(.timeLimit(.minutes(12))) struct IntakeLogTests {
    @Test("after kill -9 mid-run, a restart handles every recorded input event, each exactly once")
    func killNineMidRun() throws {
        let directory = try freshDirectory()
        let db = directory + "/h.db"
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: seen, on: t, actions: [{audit: 'seen {{ payload.n }}'}]}\n".utf8))
        let command = try RunningCommand(["run", "--rules", rules, "--db", db, "--key-file", key, "--follow", "--output", "ndjson", "--workers", "1"])
        var lines = ""
        for n in 1...3_000 { lines += #"{"type":"t","id":"e-\#(n)","payload":{"n":\#(n)}}"# + "\n" }
        command.write(lines)
        // Killed as soon as the run is handling events: most are read, many recorded, few handled.
        #expect(command.waitForOutput(containing: #""action":"audit""#))
        // Output runs ahead of the history (a line is shown before its commit): kill once a commit has recorded input.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let recorded = (try? SQLiteDatabase(path: db, readOnly: true, create: false).prepare("SELECT count(*) FROM events").rows { $0.int(0) }.first) ?? nil
            if (recorded ?? 0) > 0 { break }
            usleep(2_000)
        }
        _ = command.stop(with: SIGKILL)
        let unhandledQuery =
            "SELECT count(*) FROM events e WHERE e.parent_id IS NULL AND NOT EXISTS (SELECT 1 FROM executions x WHERE x.event_id = e.id)"
        let left = try SQLiteDatabase(path: db, readOnly: true, create: false).prepare(unhandledQuery).rows { $0.int(0) }[0]

        let restart = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: "")
        #expect(restart.status == 0, "\(restart.stderr)")
        // When the kill left recorded events unhandled (it usually does, not always), the restart says how many it handled.
        if left > 0 {
            let summary = restart.stderr.replacingOccurrences(of: ",", with: "")  // counts are printed with thousands separators
            #expect(summary.contains("symphony: \(left) events recorded by an earlier run that stopped before handling them were handled first"))
        }
        let database = try SQLiteDatabase(path: db, readOnly: true, create: false)
        let recorded = try database.prepare("SELECT count(*) FROM events WHERE parent_id IS NULL").rows { $0.int(0) }[0]
        let unhandled = try database.prepare(unhandledQuery).rows { $0.int(0) }[0]
        let most = try database.prepare("SELECT COALESCE(max(n), 0) FROM (SELECT count(*) AS n FROM executions GROUP BY event_id)").rows { $0.int(0) }[0]
        #expect(recorded > 0)
        #expect(unhandled == 0)
        #expect(most == 1)
        #expect(try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", key]).status == 0)
    }
}
