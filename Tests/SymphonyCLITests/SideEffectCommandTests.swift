import Foundation
import SymphonyTestHTTPServer
import Testing

/// Side effects through the `symphony` executable: the dry run shows them, `--no-actions` skips
/// them, the default policy refuses programs, dead letters are listed by `history --status dead`
/// and `retry --list`, and `symphony retry` runs them again.
@Suite(.timeLimit(.minutes(12))) struct SideEffectCommandTests {
    func webhookRules(_ server: ScriptedHTTPServer) -> String {
        """
        rules:
          - name: hook
            on: alert
            retry: {attempts: 2, backoff: 10ms}
            actions:
              - http: {url: "\(server.url("/hook"))", headers: {X-Token: "${HOOK_TOKEN}"}, json: {id: "{{ payload.id }}"}}
        """
    }

    @Test("validate --events shows the request exactly (secret masked) and runs nothing; validate lists the permissions")
    func dryRun() throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(webhookRules(server).utf8))
        let result = try CommandRunner.run(["validate", rules, "--events", "-"], stdin: #"{"type": "alert", "payload": {"id": 7}}"#)
        #expect(result.status == 0)
        #expect(result.stdout.contains(#"http POST \#(server.url("/hook")) [X-Token: ***] [Content-Type: application/json] body {"id":7}"#), "\(result.stdout)")
        #expect(server.requests.isEmpty)
        let listed = try CommandRunner.run(["validate", rules])
        #expect(listed.stdoutLines.last == "its actions need these permissions (a --policy must grant them): actions:http:127.0.0.1")
    }

    @Test("without a policy an exec action is denied, named, and counted; --no-actions records file actions as skipped")
    func defaultPolicyAndNoActions() throws {
        let directory = try freshDirectory()
        let target = directory + "/out.log"
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            rules:
              - name: run
                on: alert
                actions:
                  - exec: [/bin/touch, "\(directory)/ran"]
                  - file: {path: "\(target)", line: "{{ payload.id }}"}
            """.utf8))
        let event = #"{"type": "alert", "payload": {"id": 7}}"#
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let skipped = try CommandRunner.run(
            ["run", "--rules", rules, "--db", directory + "/h.db", "--key-file", directory + "/key", "--no-actions", "--output", "ndjson"], stdin: event)
        #expect(skipped.status == 0)
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(skipped.stdout.contains(#""status":"skipped""#))
        let denied = try CommandRunner.run(["run", "--rules", rules, "--db", directory + "/h.db", "--key-file", directory + "/key"], stdin: event)
        #expect(!FileManager.default.fileExists(atPath: directory + "/ran"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "7\n")
        #expect(denied.stderr.contains("1 denied"), "\(denied.stderr)")
        #expect(denied.status == 0, "denials are counted, not fatal")
        let strictDenied = try CommandRunner.run(["run", "--rules", rules, "--no-history", "--strict"], stdin: event)
        #expect(strictDenied.status == 2)
        #expect(strictDenied.stderr.contains("symphony: --strict: 0 errors and 1 denials"))
        let history = try CommandRunner.run(["history", "--db", directory + "/h.db", "--key-file", directory + "/key", "--rule", "run", "--format", "json"])
        #expect(history.stdout.contains("actions:exec"))
        #expect(history.stdout.contains("without --policy, exec actions are refused"))
    }

    @Test("a webhook that answers 404 is a dead letter: history --status dead and retry --list show it; symphony retry runs it again")
    func deadLetterAndRetry() throws {
        let server = try ScriptedHTTPServer(responses: [.status(404)], fallback: .status(200))
        defer { server.stop() }
        let directory = try freshDirectory()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(webhookRules(server).utf8))
        let state = ["--db", directory + "/h.db", "--key-file", directory + "/key"]
        let environment = ["HOOK_TOKEN": "t0ken"]
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let run = try CommandRunner.run(["run", "--rules", rules] + state, stdin: #"{"type": "alert", "id": "a-1", "payload": {"id": 1}}"#, environment: environment)
        #expect(run.status == 0)
        #expect(run.stderr.contains("1 gave up (dead letter; 'symphony retry' runs them again)"), "\(run.stderr)")
        #expect(server.requests.count == 1)
        #expect(server.requests.first?.header("X-Token") == "t0ken")
        let dead = try CommandRunner.run(["history", "--status", "dead", "--format", "json"] + state)
        #expect(dead.stdoutLines.count == 1)
        #expect(dead.stdout.contains(#""action_key":"hook/a-1/0""#))
        #expect(dead.stdout.contains("HTTP 404"))
        let listed = try CommandRunner.run(["retry", "--list"] + state)
        #expect(listed.stdout.hasPrefix("hook/a-1/0  http  POST \(server.url("/hook"))"))
        let retried = try CommandRunner.run(["retry"] + state, environment: environment)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stderr.contains("1 retried: 1 succeeded, 0 dead letters again"))
        #expect(server.requests.count == 2)
        #expect(server.requests.map { $0.header("Idempotency-Key") } == ["hook/a-1/0", "hook/a-1/0"])
        let none = try CommandRunner.run(["retry", "--list"] + state)
        #expect(none.stdout == "(no dead letters)\n")
        let tries = try CommandRunner.run(["history", "--rule", "hook", "--format", "json"] + state)
        #expect(tries.stdoutLines.count == 2)
        #expect(!tries.stdout.contains("t0ken"))
    }
}

/// `symphony retry` checks each dead letter against the policy again: it may have changed since
/// the side effect was queued.
@Suite struct RetryPolicyTests {
    @Test("a dead letter the policy no longer allows is refused (exit 77), audited as denied, and stays a dead letter; allowed again, it runs")
    func refusedThenAllowed() throws {
        let directory = try freshDirectory()
        let rules = try temporaryFile(
            named: "rules.yaml",
            contents: Data(
                """
                rules:
                  - name: note
                    on: tick
                    retry: {attempts: 1}
                    actions: [{file: {path: '\(directory)/later/notes', line: 'tick {{ id }}'}}]
                """.utf8))
        let allowing = "roles:\n  runner: [\"rules:load\", \"events:publish:*\", \"actions:file:*\", \"history:read\", \"audit:read\"]\nprincipals:\n  user:ops: [runner]\n"
        let refusing = "roles:\n  runner: [\"rules:load\", \"events:publish:*\", \"history:read\", \"audit:read\"]\nprincipals:\n  user:ops: [runner]\n"
        try allowing.write(toFile: directory + "/allowing.yaml", atomically: true, encoding: .utf8)
        try refusing.write(toFile: directory + "/refusing.yaml", atomically: true, encoding: .utf8)
        let state = ["--db", directory + "/h.db", "--key-file", directory + "/key", "--as", "user:ops"]
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        // The directory is missing: the append fails, and with one try allowed it is a dead letter at once.
        let run = try CommandRunner.run(["run", "--rules", rules, "--policy", directory + "/allowing.yaml"] + state, stdin: #"{"type": "tick", "id": "t1"}"#)
        #expect(run.status == 0, "\(run.stderr)")
        try FileManager.default.createDirectory(atPath: directory + "/later", withIntermediateDirectories: false)

        let refused = try CommandRunner.run(["retry", "--policy", directory + "/refusing.yaml"] + state)
        #expect(refused.status == 77, "\(refused.stderr)")
        #expect(refused.stderr.contains("note/t1/0: "), "\(refused.stderr)")
        #expect(refused.stderr.contains("it stays a dead letter"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/later/notes"))
        let listed = try CommandRunner.run(["retry", "--list", "--policy", directory + "/allowing.yaml"] + state)
        #expect(listed.stdout.hasPrefix("note/t1/0  file  "), "\(listed.stdout)")
        let denied = try CommandRunner.run(["audit", "list", "--operation", "access.denied", "--policy", directory + "/allowing.yaml"] + state)
        #expect(denied.stdout.contains("note/t1/0"), "\(denied.stdout) \(denied.stderr)")

        let retried = try CommandRunner.run(["retry", "--policy", directory + "/allowing.yaml"] + state)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(try String(contentsOfFile: directory + "/later/notes", encoding: .utf8) == "tick t1\n")
        let audit = try CommandRunner.run(["audit", "list", "--operation", "actions.retry", "--policy", directory + "/allowing.yaml"] + state)
        #expect(audit.stdout.contains("1 dead side effects queued again: note/t1/0"), "\(audit.stdout) \(audit.stderr)")
    }
}
