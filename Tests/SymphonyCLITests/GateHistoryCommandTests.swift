import Foundation
import Testing

@testable import SymphonyStore

/// Rules with memory across `symphony run`s on one history, and how `symphony history` shows
/// them: `--state RULE`, `--key`, and keyed delays with `--status pending --key`.
@Suite(.timeLimit(.minutes(12))) struct GateHistoryCommandTests {
    static let rules = """
        rules:
          - name: ban
            on: ssh.failure
            count: {key: "{{ payload.ip }}", at_least: 3, within: 10m}
            actions: [{emit: {type: ssh.ban, payload: {ip: "{{ window.key }}"}}}]
          - name: remind
            on: pr.opened
            actions:
              - delay: {after: 2d, key: "pr-{{ payload.pr }}", unless: {on: pr.merged}, type: review.reminder}

        """

    func failure(_ ip: String, _ time: String) -> String {
        #"{"type":"ssh.failure","time":"2026-11-29T\#(time)Z","payload":{"ip":"\#(ip)"}}"#
    }

    @Test("a window carries over to the next run, history --state shows it, --key finds the firing")
    func acrossRuns() throws {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let common = ["--rules", rules, "--db", db, "--key-file", key, "--workers", "1"]
        let first = try CommandRunner.run(["run"] + common, stdin: [failure("203.0.113.9", "03:00:00"), failure("198.51.100.1", "03:01:00"), failure("203.0.113.9", "03:02:00")].joined(separator: "\n") + "\n")
        #expect(first.status == 0)
        #expect(first.stdoutLines.isEmpty)

        let state = try CommandRunner.run(["history", "--db", db, "--key-file", key, "--state", "ban", "--rules", rules, "--format", "json"])
        #expect(state.status == 0)
        let rows = state.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.map { $0["key"] as? String } == ["203.0.113.9", "198.51.100.1"])
        #expect(rows.map { $0["events"] as? Int } == [2, 1])
        #expect(rows.first?["detail"] as? String == "2 of 3 within 10m; needs 1 more")

        let second = try CommandRunner.run(["run"] + common, stdin: failure("203.0.113.9", "03:05:00") + "\n")
        #expect(second.status == 0)
        #expect(second.stdoutLines.count == 1, "the third failure of the key bans it, two of them from the first run")
        #expect(second.stderrLines.last?.hasPrefix("symphony: rules with memory restored their state from 3 recorded events; 1 events read") == true)

        let byKey = try CommandRunner.run(["history", "--db", db, "--key-file", key, "--key", "203.0.113.9", "--format", "json"])
        let executions = byKey.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(executions.count == 1)
        #expect(executions.first?["rule"] as? String == "ban")
        #expect(executions.first?["key"] as? String == "203.0.113.9")
        #expect(try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", key]).status == 0)
    }

    @Test("keyed delays are listed and found by key; an unless cancel is recorded under the delaying rule; --state and --rules go together")
    func keyedDelays() throws {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let common = ["--rules", rules, "--db", db, "--key-file", key, "--workers", "1"]
        let opened = [#"{"type":"pr.opened","payload":{"pr":1}}"#, #"{"type":"pr.opened","payload":{"pr":2}}"#].joined(separator: "\n") + "\n"
        #expect(try CommandRunner.run(["run"] + common, stdin: opened).status == 0)
        let pending = try CommandRunner.run(["history", "--db", db, "--status", "pending", "--key", "pr-2", "--format", "json"])
        let entries = pending.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entries.map { $0["key"] as? String } == ["pr-2"])
        #expect(entries.first?["rule"] as? String == "remind")

        let merged = try CommandRunner.run(["run"] + common + ["--output", "ndjson"], stdin: #"{"type":"pr.merged","payload":{"pr":1}}"# + "\n")
        #expect(merged.status == 0)
        #expect(merged.stdout.contains(#""action":"cancel""#))
        let cancels = try CommandRunner.run(["history", "--db", db, "--key", "pr-1", "--format", "json"])
        let rows = cancels.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.map { $0["action"] as? String } == ["cancel", "delay"])
        #expect(rows.first?["rule"] as? String == "remind")
        let stillPending = try CommandRunner.run(["history", "--db", db, "--status", "pending", "--format", "json"])
        #expect(stillPending.stdoutLines.count == 1)

        let usage = try CommandRunner.run(["history", "--db", db, "--state", "ban"])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("--state needs --rules"))
        let stateless = try CommandRunner.run(["history", "--db", db, "--key-file", key, "--state", "remind", "--rules", rules])
        #expect(stateless.status == 1)
        #expect(stateless.stderr.contains("rule 'remind' has no count:, throttle: or after: gate, so it keeps no state"))
    }

    @Test("after kill -9, a restart rebuilds a half-full window from what the killed run recorded")
    func windowAfterKillNine() throws {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        let text = Self.rules + "  - {name: seen, on: ssh.failure, actions: [{audit: seen}]}\n"
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(text.utf8))
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let command = try RunningCommand(["run", "--rules", rules, "--db", db, "--key-file", key, "--follow", "--workers", "1"])
        command.write(failure("203.0.113.9", "03:00:00") + "\n" + failure("203.0.113.9", "03:01:00") + "\n")
        // Killed once both failures are handled and committed (their `seen` audits are in the history).
        var committed = false
        let deadline = Date().addingTimeInterval(120)  // bounds only a failing test: a loaded CI host may take its time
        while !committed && Date() < deadline {
            let count = try? SQLiteDatabase(path: db, readOnly: true, create: false).prepare("SELECT count(*) FROM executions").rows { $0.int(0) }.first
            committed = (count ?? 0) >= 2
            if !committed { usleep(50_000) }
        }
        #expect(committed)
        _ = command.stop(with: SIGKILL)
        let restart = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key, "--workers", "1"], stdin: failure("203.0.113.9", "03:02:00") + "\n")
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(restart.stdoutLines.count == 1, "the restart's failure is the window's third: \(restart.stderr)")
        #expect(restart.stdoutLines.first?.contains(#""type":"ssh.ban""#) == true)
    }
}
