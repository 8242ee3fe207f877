import Foundation
@testable import SymphonyStore
import Testing

@Suite(.timeLimit(.minutes(12))) struct HistoryCommandTests {
    static let rules = """
        rules:
          - name: schedule
            on: ping
            actions:
              - delay: {after: 1500ms, type: pong.later, payload: {n: "{{ payload.n }}"}}
          - name: answer
            on: pong.later
            actions:
              - emit: {type: pong, payload: {n: "{{ payload.n }}"}}
          - name: greet
            on: hello
            actions:
              - emit: {type: hi}
              - publish: {type: hello.done}
          - name: fail
            on: hello.done
            actions:
              - publish: {type: "bad.{{ payload.nothing }}"}
        """

    @Test("history records a run; filters, trace, stats and formats read it back; the key shows payloads")
    func recordsAndQueries() throws {
        let directory = try freshDirectory()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let db = directory + "/h.db"
        let key = directory + "/k"
        let run = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: #"{"type":"hello","id":"h-1","payload":{"who":"ada"}}"# + "\n")
        #expect(run.status == 1)  // an explicit --key-file must exist
        #expect(run.stderrLines == ["symphony: Key file '\(key)' does not exist; create one with 'symphony keygen -o \(key)'."])

        let ok = try CommandRunner.run(["run", "--rules", rules, "--db", db], stdin: #"{"type":"hello","id":"h-1","payload":{"who":"ada"}}"# + "\n")
        #expect(ok.status == 0)
        let all = try CommandRunner.run(["history", "--db", db, "--format", "json"])
        #expect(all.status == 0)
        let rows = jsonLines(all.stdout)
        #expect(rows.compactMap { $0["rule"] as? String }.sorted() == ["fail", "greet", "greet"])
        let failed = try CommandRunner.run(["history", "--db", db, "--status", "failed", "--format", "json"])
        #expect(jsonLines(failed.stdout).compactMap { $0["rule"] as? String } == ["fail"])
        let csv = try CommandRunner.run(["history", "--db", db, "--rule", "greet", "--format", "csv"])
        #expect(csv.stdoutLines.first == "started,event,type,rule,action,outcome,duration_us,message,error")
        #expect(csv.stdoutLines.count == 3)
        let trace = try CommandRunner.run(["history", "--db", db, "--trace", "h-1"])
        #expect(trace.stdoutLines.first?.hasPrefix("event h-1 (hello, priority 5) received ") == true)
        #expect(!(trace.stdoutLines.first ?? "").contains("ada"))  // the key is not in ./.symphony here: no payloads
        #expect(trace.stdout.contains("greet → publish: ok"))
        #expect(trace.stdout.contains("fail → publish: failed"))
        let stats = try CommandRunner.run(["history", "--db", db, "--stats", "--format", "json"])
        let statsRows = jsonLines(stats.stdout)
        #expect(Set(statsRows.filter { $0["never_fired"] == nil }.compactMap { $0["rule"] as? String }) == ["fail", "greet"])
        // The rules the run loaded that have no execution yet (nothing sent ping).
        #expect(statsRows.filter { ($0["never_fired"] as? Bool) == true }.compactMap { $0["rule"] as? String } == ["schedule", "answer"])
        let typo = try CommandRunner.run(["history", "--db", db, "--rule", "gret"])
        #expect(typo.status == 0)
        #expect(typo.stderr.contains("symphony: the history has no execution of a rule named 'gret'; did you mean 'greet'?"))
        let unknownType = try CommandRunner.run(["history", "--db", db, "--type", "helo"])
        #expect(unknownType.stderr.contains("symphony: the history has no event of type 'helo'"))
        let known = try CommandRunner.run(["history", "--db", db, "--rule", "greet"])
        #expect(known.stderr.isEmpty)
        let missing = try CommandRunner.run(["history", "--db", directory + "/none.db"])
        #expect(missing.status == 1)
        let usage = try CommandRunner.run(["history", "--db", db, "--since", "yesterday"])
        #expect(usage.status == 64)
    }

    @Test("pending delays survive kill -9: a restart fires every one exactly once, late, and never again")
    func killNineRestart() throws {
        let directory = try freshDirectory()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let db = directory + "/h.db"
        let keyPath = directory + "/key"
        let keygen = try CommandRunner.run(["keygen", "-o", keyPath])
        #expect(keygen.status == 0)
        #expect(keygen.stdout.hasPrefix("wrote \(keyPath) (key id "))
        #expect(try CommandRunner.run(["keygen", "-o", keyPath]).status == 1)  // never overwritten
        let command = try RunningCommand(["run", "--rules", rules, "--db", db, "--key-file", keyPath, "--follow", "--output", "ndjson"])
        for n in 1...5 { command.write(#"{"type":"ping","payload":{"n":\#(n)}}"# + "\n") }
        // An outcome line is printed only after its delay was stored.
        #expect(command.waitForOutputCount(of: #""action":"delay""#, count: 5))
        let killed = command.stop(with: SIGKILL)
        #expect(command.process.terminationReason == .uncaughtSignal && killed.status == SIGKILL)

        let pending = try CommandRunner.run(["history", "--db", db, "--status", "pending", "--format", "json", "--key-file", keyPath])
        let dues = jsonLines(pending.stdout).compactMap { $0["due"] as? String }
        #expect(dues.count == 5)
        // Wait until every entry is more than a second overdue (so it fires marked late): a wait for
        // a point in time that has to have passed, not a bet on how long anything takes.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let lastDue = try #require(dues.compactMap { formatter.date(from: $0) }.max())
        Thread.sleep(forTimeInterval: max(0, lastDue.timeIntervalSinceNow + 1.2))

        let restart = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", keyPath, "--output", "ndjson"], stdin: "")
        #expect(restart.status == 0)
        let emitted = jsonLines(restart.stdout).filter { $0["action"] as? String == "emit" }
        let numbers = emitted.compactMap { (($0["derived"] as? [String: Any])?["payload"] as? [String: Any])?["n"] as? Int }
        #expect(numbers.sorted() == [1, 2, 3, 4, 5])
        let after = try CommandRunner.run(["history", "--db", db, "--status", "pending", "--format", "json"])
        #expect(after.stdout == "")
        let fired = try HistoryReader(path: db, sealer: nil).scheduled(state: "done")
        #expect(fired.count == 5 && fired.allSatisfy(\.late))

        let again = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", keyPath, "--output", "ndjson"], stdin: "")
        #expect(again.status == 0)
        #expect(jsonLines(again.stdout).filter { $0["action"] as? String == "emit" }.isEmpty)
        let answers = try CommandRunner.run(["history", "--db", db, "--rule", "answer", "--format", "json"])
        #expect(jsonLines(answers.stdout).count == 5)
    }

    @Test("a trace shows a delayed event that fired although the delay execution that made it was lost (killed after the entry was committed)")
    func traceFiredWithoutDelayExecution() throws {
        let directory = try freshDirectory()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let db = directory + "/h.db"
        let keyPath = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", keyPath]).status == 0)
        let first = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", keyPath], stdin: #"{"type":"ping","id":"p-1","payload":{"n":7}}"# + "\n")
        #expect(first.status == 0)
        // As a kill -9 leaves it: the scheduled entry was committed, the delay's execution (and the
        // delayed event stored with it) were not.
        let database = try SQLiteDatabase(path: db)
        let delayed = try #require(try database.prepare("SELECT event_id FROM scheduled").rows { $0.text(0) ?? "" }.first)
        try database.execute("DELETE FROM executions WHERE event_id = 'p-1'; DELETE FROM events WHERE id = '\(delayed)'")
        let due = try #require(try HistoryReader(path: db, sealer: nil).scheduled().first?.due)
        Thread.sleep(forTimeInterval: max(0, Double(due.nanosecondsSinceEpoch) / 1e9 - Date().timeIntervalSince1970 + 0.1))  // until it is due

        let restart = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", keyPath], stdin: "")
        #expect(restart.status == 0)
        let trace = try CommandRunner.run(["history", "--db", db, "--key-file", keyPath, "--trace", "p-1"])
        #expect(trace.status == 0)
        #expect(trace.stdoutLines.count == 5, "\(trace.stdout)")
        #expect(trace.stdoutLines.dropFirst().first == "  (delay not recorded; its scheduled entry fired)")
        #expect(trace.stdoutLines.dropFirst(2).first?.hasPrefix("    event \(delayed) (pong.later, priority 5) received ") == true)
        #expect(trace.stdoutLines.dropFirst(2).first?.contains("from p-1 by rule 'schedule' (hop 1) payload {\"n\":7}") == true, "\(trace.stdout)")
        #expect(trace.stdoutLines.dropFirst(3).first?.hasPrefix("      answer → emit: ok (") == true)
        let json = try CommandRunner.run(["history", "--db", db, "--trace", "p-1", "--format", "json"])
        let tree = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let children = try #require(tree["unrecorded_delays"] as? [[String: Any]])
        #expect(children.map { $0["id"] as? String } == [delayed])
    }
}

@Suite(.timeLimit(.minutes(12))) struct PendingAcrossRotationTests {
    @Test("a delay stored under the old key fires after a rotation when the old key is given as retired; without it the run refuses")
    func pendingAcrossRotation() throws {
        let directory = try freshDirectory()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(HistoryCommandTests.rules.utf8))
        let (db, old, new) = (directory + "/h.db", directory + "/old.key", directory + "/new.key")
        #expect(try CommandRunner.run(["keygen", "-o", old]).status == 0)
        #expect(try CommandRunner.run(["keygen", "-o", new]).status == 0)
        let first = try RunningCommand(["run", "--rules", rules, "--db", db, "--key-file", old, "--follow", "--output", "ndjson"])
        first.write(#"{"type":"ping","payload":{"n":7}}"# + "\n")
        #expect(first.waitForOutput(containing: #""action":"delay""#))
        _ = first.stop(with: SIGKILL)
        let pending = try CommandRunner.run(["history", "--db", db, "--status", "pending", "--format", "json", "--key-file", old])
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let due = try #require(jsonLines(pending.stdout).compactMap { ($0["due"] as? String).flatMap(formatter.date(from:)) }.first)
        Thread.sleep(forTimeInterval: max(0, due.timeIntervalSinceNow + 0.1))  // until it is due

        let refused = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", new, "--output", "ndjson"], stdin: "")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("--retired-key-file"))
        let rotated = try CommandRunner.run(
            ["run", "--rules", rules, "--db", db, "--key-file", new, "--retired-key-file", old, "--output", "ndjson"], stdin: "")
        #expect(rotated.status == 0)
        let emitted = jsonLines(rotated.stdout).filter { $0["action"] as? String == "emit" }
        #expect(emitted.compactMap { (($0["derived"] as? [String: Any])?["payload"] as? [String: Any])?["n"] as? Int } == [7])
        #expect(try HistoryReader(path: db, sealer: nil).scheduled(state: "pending").isEmpty)
    }
}

@Suite(.timeLimit(.minutes(12))) struct AccessAndAuditCommandTests {
    @Test("with a policy: denied input events and actions are reported, recorded as denied, audited; denied commands exit 77")
    func policyEnforced() throws {
        let directory = try freshDirectory()
        let db = directory + "/h.db"
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let policy = try temporaryFile(named: "policy.yaml", contents: Data("""
            roles:
              operator: ["rules:load", "history:read", "audit:read", "audit:verify", "events:publish:ticket.*"]
              triage: ["events:publish:billing.*"]
            principals:
              user:ops: [operator]
              rule:triage: [triage]
            """.utf8))
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            owner: rule:triage
            rules:
              - name: bill
                on: ticket.created
                actions: [{publish: {type: billing.charge}}, {publish: {type: alerts.page}}]
            """.utf8))
        let common = ["--db", db, "--key-file", key, "--policy", policy]
        let input = #"{"type":"ticket.created","id":"ok-1"}"# + "\n" + #"{"type":"ticket.created","id":"no-1","source":"mallory"}"# + "\n"
        let run = try CommandRunner.run(["run", "--rules", rules, "--as", "user:ops", "--output", "ndjson"] + common, stdin: input)
        #expect(run.status == 0)
        #expect(run.stderr.contains("<stdin>:2: denied: access denied: 'mallory' lacks the permission 'events:publish:ticket.created'"))
        #expect(run.stdout.contains(#""error":"access denied: 'rule:triage' lacks the permission 'events:publish:alerts.page'""#))
        let denied = try CommandRunner.run(["history", "--status", "denied", "--format", "json", "--as", "user:ops"] + common)
        #expect(denied.stdoutLines.count == 2)
        let notAllowed = try CommandRunner.run(["history", "--as", "user:mallory"] + common)
        #expect(notAllowed.status == 77)
        #expect(notAllowed.stderrLines == ["symphony: access denied: 'user:mallory' lacks the permission 'history:read'"])
        let audit = try CommandRunner.run(["audit", "list", "--format", "json", "--limit", "100", "--as", "user:ops"] + common)
        let operations = audit.stdoutLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["operation"] as? String
        }
        #expect(operations.contains("rules.load"))
        // The refused `history` command itself is audited, as mallory, naming the permission it lacked.
        let records = audit.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(
            records.contains {
                $0["principal"] as? String == "user:mallory" && $0["operation"] as? String == "access.denied" && $0["target"] as? String == "history:read"
            })
        // A denied action is audited as an access denial of the rule's principal (actions that ran need no audit record).
        #expect(
            records.contains {
                $0["principal"] as? String == "rule:triage" && $0["operation"] as? String == "access.denied" && $0["target"] as? String == "ok-1"
                    && ($0["details"] as? String ?? "").contains("'events:publish:alerts.page'")
            })
        #expect(!operations.contains { $0.hasPrefix("action.") })
        let verify = try CommandRunner.run(["audit", "verify", "--as", "user:ops"] + common)
        #expect(verify.status == 0)
        #expect(verify.stdout.hasPrefix("history intact: "))
    }

    @Test("audit verify exits 2 and names the link of an edited execution or audit record")
    func verifyDetectsEdits() throws {
        for (table, sql) in [
            ("executions", "UPDATE executions SET message = 'nothing to see' WHERE seq = 1"),
            ("audit", "DROP TRIGGER audit_no_update; UPDATE audit SET details = 'nothing to see' WHERE seq = 2"),
        ] {
            let directory = try freshDirectory()
            let db = directory + "/h.db"
            let key = directory + "/key"
            #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
            let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: t, actions: [{audit: hello}]}\n".utf8))
            _ = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: "{\"type\":\"t\"}\n{\"type\":\"t\"}\n")
            let database = try SQLiteDatabase(path: db)
            let link = try database.prepare("SELECT link FROM \(table) WHERE seq = \(table == "audit" ? 2 : 1)").rows { $0.int(0) }[0]
            try database.execute(sql)
            let verify = try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", key])
            #expect(verify.status == 2)
            #expect(
                verify.stderrLines == [
                    "symphony: history broken at link \(link): the \(table) rows of link \(link) differ from what that commit wrote (a row was edited, deleted, inserted or reordered)"
                ])
        }
    }
}

@Suite(.timeLimit(.minutes(12))) struct DelayedUnderNewPolicyTests {
    @Test("a delay stored under one policy is checked again when it fires under a stricter one")
    func recheckedAtFire() throws {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            owner: rule:bot
            rules:
              - {name: later, on: ping, actions: [{delay: {after: 1s, type: pong}}]}
              - {name: answer, on: pong, actions: [{emit: {type: seen}}]}
            """.utf8))
        let strict = try temporaryFile(named: "strict.yaml", contents: Data("""
            roles:
              ops: ["rules:load", "events:publish:ping"]
            principals:
              user:ops: [ops]
              rule:bot: [ops]
            """.utf8))
        // First run: no policy; the delay is stored (SIGKILL keeps it pending).
        let first = try RunningCommand(["run", "--rules", rules, "--db", db, "--key-file", key, "--follow", "--output", "ndjson"])
        first.write(#"{"type":"ping"}"# + "\n")
        #expect(first.waitForOutput(containing: #""action":"delay""#))
        _ = first.stop(with: SIGKILL)
        Thread.sleep(forTimeInterval: 1.3)  // until the stored delay is due (a bound, not a race: it only has to have passed)
        // Second run under the strict policy: 'pong' may not be published by rule:bot any more.
        let second = try CommandRunner.run(
            ["run", "--rules", rules, "--db", db, "--key-file", key, "--policy", strict, "--as", "user:ops", "--output", "ndjson"], stdin: "")
        #expect(second.status == 0)
        #expect(!second.stdout.contains(#""type":"seen""#))
        let denied = try CommandRunner.run(["history", "--db", db, "--key-file", key, "--status", "denied", "--format", "json"])
        #expect(denied.stdout.contains(#""type":"pong""#))
    }
}

/// The JSON objects of JSON Lines output.
func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}
