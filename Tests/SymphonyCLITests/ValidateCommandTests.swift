import Foundation
import SymphonyRecords
import SymphonyStore
import Testing

@Suite(.timeLimit(.minutes(12))) struct ValidateCommandTests {
    static let rules = """
        rules:
          - name: big-order
            on: order.placed
            when: {field: payload.total, gt: 100}
            actions:
              - publish: {type: order.review, payload: {total: "{{ payload.total }}"}}
              - delay: {after: 24h, type: order.reminder}
              - audit: "big order {{ id }}"
          - name: review
            on: order.review
            actions: [{emit: {type: mail.reviewer, payload: {total: "{{ payload.total }}"}}}]
        """

    func rulesFile(_ text: String = ValidateCommandTests.rules) throws -> String {
        try temporaryFile(named: "rules.yaml", contents: Data(text.utf8))
    }

    @Test("valid rules: a one-line verdict, exit 0; json format says the same")
    func valid() throws {
        let rules = try rulesFile()
        let result = try CommandRunner.run(["validate", rules])
        #expect(result.status == 0)
        #expect(result.stdoutLines == ["\(rules): valid: 2 rules, 0 intents"])
        let json = try CommandRunner.run(["validate", rules, "--format", "json"])
        #expect(json.stdoutLines == [#"{"diagnostics":[],"intents":0,"permissions":["events:publish:order.reminder","events:publish:order.review"],"rules":2,"valid":true}"#])
    }

    @Test("rules with errors: every diagnostic on stderr, exit 1; json lists them")
    func invalid() throws {
        let rules = try rulesFile("rules:\n  - {name: a, on: x, actions: [{publsh: {type: y}}]}\n  - {name: b, on: 'x..', actions: [stop]}\n")
        let result = try CommandRunner.run(["validate", rules])
        #expect(result.status == 1)
        #expect(result.stderrLines == [
            "\(rules):2:33: error: unknown action 'publsh'; did you mean 'publish'?",
            "\(rules):3:20: error: invalid type pattern 'x..': it has an empty segment",
        ])
        let json = try CommandRunner.run(["validate", rules, "--format", "json"])
        #expect(json.status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdoutLines[0].utf8)) as? [String: Any]
        #expect(object?["valid"] as? Bool == false)
        #expect((object?["diagnostics"] as? [[String: Any]])?.map { $0["line"] as? Int } == [2, 3])
    }

    @Test("a dry run shows matches, failures and the followed chain, and writes nothing")
    func dryRun() throws {
        let rules = try rulesFile()
        let directory = NSTemporaryDirectory() + "symphony-dry-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let events = """
            {"type": "order.placed", "id": "o-1", "payload": {"total": 250}}
            {"type": "order.placed", "id": "o-2", "payload": {"total": 5}}
            """
        let result = try CommandRunner.run(["validate", rules, "--events", "-"], stdinData: Data(events.utf8), directory: directory)
        #expect(result.status == 0)
        let lines = result.stdoutLines
        #expect(lines.first == "<stdin>:1: order.placed (id o-1, priority 5)")
        #expect(lines.contains("  ✔ big-order (salience 0) matches"))
        #expect(lines.contains { $0.contains("publish order.review {\"total\":250}") })
        #expect(lines.contains { $0.contains("delay order.reminder {} until ") })
        #expect(lines.contains("      audit \"big order o-1\""))
        #expect(lines.contains { $0.hasPrefix("  → order.review (hop 1, from rule 'big-order')") })
        #expect(lines.contains { $0.hasPrefix("  → order.reminder (hop 1, from rule 'big-order' at +1d)") })
        #expect(lines.contains("  ✘ big-order: payload.total is 5, not > 100"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("a dry run in json gives one object per input event with every step")
    func dryRunJSON() throws {
        let result = try CommandRunner.run(
            ["validate", try rulesFile(), "--events", "-", "--format", "json"], stdin: #"{"type":"order.placed","payload":{"total":101}}"# + "\n")
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 2)  // the verdict object, then the trace
        let trace = try JSONSerialization.jsonObject(with: Data(result.stdoutLines[1].utf8)) as? [String: Any]
        let steps = trace?["steps"] as? [[String: Any]]
        #expect(steps?.compactMap { ($0["event"] as? [String: Any])?["type"] as? String } == ["order.placed", "order.review", "order.reminder"])
    }

    @Test("rejected event lines in a dry run exit 65")
    func rejectedLines() throws {
        let result = try CommandRunner.run(["validate", try rulesFile(), "--events", "-"], stdin: "nope\n")
        #expect(result.status == 65)
        #expect(result.stderrLines == ["<stdin>:1: rejected: not valid JSON: unexpected character at byte 1"])
    }

    @Test("the shipped rule sets are valid; the only warnings are the support intents' patterns without a literal for the pre-filter")
    func shippedRuleSets() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["support", "sshd", "http", "github"] {
            let result = try CommandRunner.run(["validate", root.appendingPathComponent("rules/\(name)").path])
            #expect(result.status == 0, "\(name): \(result.stderr)")
            if name == "support" {
                #expect(result.stderrLines.count == 3)
                #expect(result.stderrLines.allSatisfy { $0.contains("has no literal for the pre-filter, so it runs on every text") })
                #expect(result.stderrLines.first?.contains("intents.yaml:10:17: warning: intent 'refund_request' pattern '\\b(?:rembours") == true)
                #expect(result.stderrLines.first?.hasSuffix("so a word in another script is better a keyword") == true)
            } else {
                #expect(result.stderr == "")
            }
        }
    }
}

@Suite(.timeLimit(.minutes(12))) struct FollowAndSignalTests {
    func rulesFile(delay: String = "300ms") throws -> String {
        try temporaryFile(named: "rules.yaml", contents: Data("""
            rules:
              - name: later
                on: ping
                actions:
                  - emit: {type: pong.now, payload: {id: "{{ id }}"}}
                  - delay: {after: \(delay), type: ping.later}
              - name: fired
                on: ping.later
                actions:
                  - emit: {type: pong.later}
            """.utf8))
    }

    @Test("--follow keeps running so delayed events fire, and SIGTERM exits cleanly with a summary")
    func followFiresDelays() throws {
        let command = try RunningCommand(["run", "--rules", try rulesFile(), "--follow"])
        command.write(#"{"type":"ping","id":"p-1"}"# + "\n")
        #expect(command.waitForOutput(containing: "pong.now"))
        #expect(command.waitForOutput(containing: "pong.later"))
        let result = command.stop(with: SIGTERM)
        #expect(result.status == 143)
        #expect(result.stderr.contains("; interrupted by SIGTERM"))
        #expect(result.stderr.contains("symphony: 1 events read, 0 rejected"))
    }

    @Test("SIGINT in the middle of a large file: every event counted as read was processed and recorded, and none after it")
    func interruptMidFile() throws {
        let directory = try freshDirectory()
        let events = directory + "/events.jsonl"
        let total = 200_000
        try Data(((1...total).map { #"{"type":"tick","id":"t-\#($0)"}"# }.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: events))
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: answer, on: tick, actions: [{emit: {type: tock}}]}\n".utf8))
        let db = directory + "/h.db"
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let command = try RunningCommand(["run", "--rules", rules, "--events", events, "--db", db, "--key-file", key])
        #expect(command.waitForOutput(containing: "tock"))
        let result = command.stop(with: SIGINT)
        #expect(result.status == 130)
        // Whenever the signal landed, the summary's count and the history agree.
        let summary = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("symphony: ") && $0.contains(" events read") })
        let read = try #require(Int(summary.dropFirst("symphony: ".count).prefix { $0 != " " }.filter { $0 != "," }))
        #expect(read > 0 && read <= total)
        let reader = try HistoryReader(path: db, sealer: nil)
        #expect(try reader.event(id: "t-1") != nil)
        #expect(try reader.event(id: "t-\(read)") != nil)
        var lastQuery = HistoryQuery()
        lastQuery.eventID = "t-\(read)"
        #expect(try reader.executions(lastQuery).map(\.rule) == ["answer"])
        // The signal follows the first emitted event, long before 200,000 lines are read; if it ever
        // lands after the end of the file, this test did not interrupt anything and says so.
        #expect(read < total, "SIGINT arrived after the whole file was read")
        #expect(try reader.event(id: "t-\(read + 1)") == nil)
    }

    @Test("SIGINT while reading a pipe stops reading, finishes in-flight work and exits 130, saying it was interrupted")
    func interruptWhileReading() throws {
        let command = try RunningCommand(["run", "--rules", try rulesFile(delay: "1h")])
        command.write(#"{"type":"ping","id":"p-2"}"# + "\n")
        #expect(command.waitForOutput(containing: "pong.now"))
        let result = command.stop(with: SIGINT)
        #expect(result.status == 130)
        #expect(result.stderr.contains("; interrupted by SIGINT"))
        #expect(result.stderr.contains("symphony: 1 events read"))
        #expect(result.stderr.contains("1 delayed event still pending"))
    }
}
