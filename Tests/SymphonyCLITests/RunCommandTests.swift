import Foundation
import Testing

@Suite(.timeLimit(.minutes(12))) struct RunCommandTests {
    static let rules = """
        rules:
          - name: page-on-5xx
            on: http.request
            when: { field: payload.status, gte: 500 }
            actions:
              - emit: { type: alert.page, priority: 0, payload: { path: "{{ payload.path }}", status: "{{ payload.status }}" } }
          - name: count-all
            on: "**"
            actions:
              - audit: "saw {{ type }}"
        """

    func rulesFile(_ text: String = RunCommandTests.rules) throws -> String {
        try temporaryFile(named: "rules.yaml", contents: Data(text.utf8))
    }

    @Test("the first run says once what state it created, and where; a run with nothing to read creates nothing")
    func createdStateIsAnnounced() throws {
        let directory = try freshDirectory()
        let missing = try CommandRunner.run(["run", "--rules", try rulesFile(), "--events", directory + "/typo.jsonl", "--db", directory + "/h.db"])
        #expect(missing.status == 66)
        #expect(!FileManager.default.fileExists(atPath: directory + "/h.db"))
        let first = try CommandRunner.run(["run", "--rules", try rulesFile(), "--db", directory + "/h.db"], stdin: #"{"type": "x"}"# + "\n")
        let notices = first.stderr.split(separator: "\n").filter { $0.hasPrefix("symphony: created ") }
        #expect(notices.count == 2, "\(first.stderr)")
        #expect(notices.first?.hasPrefix("symphony: created a new key '.symphony/key' (0600)") == true)
        #expect(notices.last == "symphony: created the history database '\(directory)/h.db'")
    }

    @Test("valid events run through the rules: emitted events on stdout, a summary on stderr, exit 0")
    func validEvents() throws {
        let events = """
            {"type": "http.request", "id": "r-1", "payload": {"path": "/a", "status": 503}}
            {"type": "http.request", "id": "r-2", "payload": {"path": "/b", "status": 200}}

            """
        let path = try temporaryFile(named: "events.jsonl", contents: Data(events.utf8))
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--events", path])
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 1)
        let emitted = try JSONSerialization.jsonObject(with: Data(result.stdoutLines[0].utf8)) as? [String: Any]
        #expect(emitted?["type"] as? String == "alert.page")
        let payload = emitted?["payload"] as? [String: Any]
        #expect(payload?["path"] as? String == "/a")
        #expect(payload?["status"] as? Int == 503)
        #expect((emitted?["causation"] as? [String: Any])?["parent"] as? String == "r-1")
        #expect(result.stderrLines.prefix(2) == ["audit: saw http.request (rule count-all)", "audit: saw http.request (rule count-all)"])
        #expect(
            result.stderrLines.last?.hasPrefix(
                "symphony: 2 events read, 0 rejected, 2 processed, 3 rules fired; actions: publish 0, delay 0, audit 2, emit 1, stop 0; 0 errors;") == true)
    }

    @Test("--output ndjson prints one JSON line per action outcome")
    func ndjson() throws {
        let result = try CommandRunner.run(
            ["run", "--rules", try rulesFile(), "--output", "ndjson"], stdin: #"{"type": "http.request", "id": "x", "payload": {"status": 500}}"#)
        #expect(result.status == 0)
        let outcomes = try result.stdoutLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(Set(outcomes.compactMap { $0?["action"] as? String }) == ["emit", "audit"])
        #expect(outcomes.allSatisfy { $0?["status"] as? String == "ok" && $0?["event"] as? String == "x" })
        #expect(outcomes.contains { $0?["message"] as? String == "saw http.request" })
    }

    @Test("--stage-times prints one line per stage after the summary; without it there is none")
    func stageTimes() throws {
        let input = #"{"type": "http.request", "payload": {"path": "/a", "status": 503}}"# + "\n"
        let timed = try CommandRunner.run(["run", "--rules", try rulesFile(), "--stage-times"], stdin: input)
        #expect(timed.status == 0)
        let stages = timed.stderr.split(separator: "\n").filter { $0.hasPrefix("stage ") }.map { $0.split(separator: " ") }
        #expect(stages.map { String($0[1]) } == ["decode", "queue", "match", "intents", "actions", "history-(record)", "history-(write)"])
        // `stage <name> <ms> ms <µs> µs/event <share>%`.
        #expect(stages.allSatisfy { $0.count == 7 && $0[3] == "ms" && $0[5] == "µs/event" && $0[6].hasSuffix("%") && Double($0[2]) != nil })
        #expect(timed.stderr.contains("stage times over 1 input events"))
        let untimed = try CommandRunner.run(["run", "--rules", try rulesFile()], stdin: input)
        #expect(!untimed.stderr.contains("stage "))
    }

    @Test("bad lines on stdin are reported with their line number and reason, counted, and the run goes on (exit 65)")
    func badLines() throws {
        let input = "{\"type\":\"a.b\",\"id\":\"ok-1\"}\r\nnot json\n{\"payload\":{}}\n{\"type\":\"x\",\"priority\":12}\n"
            + "{\"type\":\"bad..type\"}\n{\"type\":\"a.b\",\"payload\":[1]}\n[1,2]\n{\"type\":\"c\",\"id\":\"ok-2\"}"
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--workers", "1", "--output", "ndjson"], stdin: input)
        #expect(result.status == 65)
        #expect(result.stdoutLines.count == 2)  // one audit per accepted event
        #expect(
            Array(result.stderrLines.dropLast()) == [
                "<stdin>:2: rejected: not valid JSON: unexpected character at byte 1",
                "<stdin>:3: rejected: missing required field 'type'",
                "<stdin>:4: rejected: 'priority' must be an integer from 0 to 9, not 12",
                "<stdin>:5: rejected: Invalid event type 'bad..type': it has an empty segment.",
                "<stdin>:6: rejected: 'payload' must be a JSON object",
                "<stdin>:7: rejected: not a JSON object",
            ])
        #expect(result.stderrLines.last?.hasPrefix("symphony: 8 events read, 6 rejected, 2 processed") == true)
    }

    @Test("invalid UTF-8, NUL bytes and over-long lines are rejected without stopping the run")
    func hostileLines() throws {
        var bytes = Array("{\"type\":\"a.b\",\"id\":\"first\"}\n".utf8)
        bytes += [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0x0A]
        bytes += Array("{\"type\":\"a.b\",\"payload\":{\"text\":\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: 2 << 20)
            + Array("\"}}\n".utf8)
        bytes += Array("{\"type\":\"a.b\",\"id\":\"nul\u{0}\"}\n".utf8)
        bytes += Array("{\"type\":\"a.b\",\"id\":\"last\"}".utf8)
        let path = try temporaryFile(named: "hostile.jsonl", contents: Data(bytes))
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--events", path, "--output", "ndjson"])
        #expect(result.status == 65)
        let events = Set(result.stdoutLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
        })
        #expect(events == ["first", "last"])
        #expect(result.stderr.contains("hostile.jsonl:2: rejected: not valid UTF-8"))
        #expect(result.stderr.contains("hostile.jsonl:3: rejected: line is longer than 1048576 bytes"))
        #expect(result.stderr.contains("hostile.jsonl:4: rejected: contains a NUL byte"))
    }

    @Test("--lines wraps raw log lines, CRLF endings and a missing final newline included")
    func rawLines() throws {
        let rules = try rulesFile("""
            rules:
              - name: failed
                on: sshd.log
                when: { field: payload.message, matches: 'Failed password for (?<user>\\S+) from (?<ip>\\S+)' }
                actions:
                  - emit: { type: security.failed_login, payload: { user: "{{ captures.user }}", ip: "{{ captures.ip }}" } }
            """)
        let log = "Nov 29 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2\r\nNov 29 sshd[2]: Accepted key\r\n"
            + "Nov 29 sshd[3]: Failed password for bob from 192.0.2.1 port 2 ssh2"
        let result = try CommandRunner.run(["run", "--rules", rules, "--lines", "sshd.log", "--workers", "1"], stdin: log)
        #expect(result.status == 0)
        let payloads = try result.stdoutLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .compactMap { $0?["payload"] as? [String: String] }
        #expect(Set(payloads) == [["user": "root", "ip": "203.0.113.7"], ["user": "bob", "ip": "192.0.2.1"]])
    }

    @Test("rule errors are printed as file:line:column and exit 1 before reading any input")
    func ruleErrors() throws {
        let rules = try rulesFile("rules:\n  - name: x\n    on: a.b\n    actoins: []\n")
        let result = try CommandRunner.run(["run", "--rules", rules], stdin: "{\"type\":\"a.b\"}\n")
        #expect(result.status == 1)
        let expected: Set<String> = [
            "\(rules):4:5: error: unknown key 'actoins' in rule 'x'; did you mean 'actions'?",
            "\(rules):2:5: error: missing required key 'actions' in rule 'x'",
        ]
        #expect(Set(result.stderrLines) == expected)
    }

    @Test("an unreadable input file is reported and exits 66")
    func missingFile() throws {
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--events", "/nonexistent/events.jsonl"])
        #expect(result.status == 66)
        #expect(result.stderrLines.first == "symphony: cannot read '/nonexistent/events.jsonl': No such file or directory")
    }

    @Test("bad options are usage errors (exit 64) and --help explains the command")
    func usage() throws {
        let bad = try CommandRunner.run(["run", "--rules", try rulesFile(), "--workers", "0"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--workers must be from 1 to 256, not 0."))
        let noRules = try CommandRunner.run(["run"])
        #expect(noRules.status == 64)
        #expect(noRules.stderr.contains("Missing rule files: name a rule file or a directory of rule files (PATH or --rules PATH)."))
        let help = try CommandRunner.run(["run", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit codes: 0 ok"))
    }

    @Test("--no-encryption runs the same rules and warns on stderr")
    func noEncryption() throws {
        let result = try CommandRunner.run(
            ["run", "--rules", try rulesFile(), "--no-encryption"], stdin: "{\"type\":\"http.request\",\"payload\":{\"status\":502}}\n")
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 1)
        #expect(result.stderr.contains("ENCRYPTION IS OFF"))
    }
}

@Suite(.timeLimit(.minutes(12))) struct RunCommandReviewTests {
    @Test("delays already due fire before the run ends, even without --follow; input 'time' is honoured")
    func dueDelaysAndTime() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            rules:
              - name: now
                on: start
                actions: [{delay: {after: 0s, type: later, payload: {t: "{{ time }}"}}}]
              - name: fired
                on: later
                actions: [{emit: {type: done, payload: {t: "{{ payload.t }}"}}}]
            """.utf8))
        let result = try CommandRunner.run(["run", "--rules", rules], stdin: #"{"type":"start","time":"2026-01-02T03:04:05Z"}"# + "\n")
        #expect(result.status == 0)
        #expect(result.stdout.contains(#""payload":{"t":"2026-01-02T03:04:05.000000000Z"}"#))
        let bad = try CommandRunner.run(["run", "--rules", rules], stdin: #"{"type":"start","time":"yesterday"}"# + "\n")
        #expect(bad.status == 65)
        #expect(bad.stderrLines.first == "<stdin>:1: rejected: 'time' must be an RFC 3339 timestamp such as 2026-11-29T03:48:03Z")
    }

    @Test("a bad --lines type is a usage error")
    func badLinesType() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: log, actions: [{emit: {type: seen}}]}\n".utf8))
        let usage = try CommandRunner.run(["run", "--rules", rules, "--lines", "bad..type"])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("--lines: Invalid event type 'bad..type': it has an empty segment."))
    }

    @Test("capitalised YAML booleans compare as true")
    func yamlBooleans() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: t, when: {field: payload.v, equals: YES}, actions: [{emit: {type: yes}}]}\n".utf8))
        let result = try CommandRunner.run(["run", "--rules", rules], stdin: "{\"type\":\"t\",\"payload\":{\"v\":true}}\n{\"type\":\"t\",\"payload\":{\"v\":false}}\n")
        #expect(result.stdoutLines.count == 1)
    }
}

@Suite(.timeLimit(.minutes(12))) struct HostileInputLineTests {
    @Test("deeply nested JSON, numbers out of range and payloads nesting past the codec's limit are rejected; the run goes on")
    func hostileJSON() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: a, actions: [{emit: {type: seen}}]}\n".utf8))
        let deep = #"{"type":"a","payload":{"x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}}"
        let tooDeepForCodec = #"{"type":"a","payload":{"x":"# + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}}"
        let huge = #"{"type":"a","payload":{"x":1e999999}}"#
        // The deepest line the parser accepts (256 levels: root, payload, 254 arrays) fits the event codec too.
        let deepestAccepted = #"{"type":"a","payload":{"x":"# + String(repeating: "[", count: 254) + String(repeating: "]", count: 254) + "}}"
        let input = [deep, tooDeepForCodec, huge, #"{"type":"a","id":"ok"}"#, deepestAccepted].joined(separator: "\n") + "\n"
        let result = try CommandRunner.run(["run", "--rules", rules, "--no-history"], stdin: input)
        #expect(result.status == 65)
        #expect(result.stdoutLines.count == 2)
        #expect(!result.stderr.contains("<stdin>:5"))
        #expect(result.stderrLines.prefix(3) == [
            "<stdin>:1: rejected: not valid JSON: nesting deeper than 256 levels in 'payload' at byte 282",
            "<stdin>:2: rejected: not valid JSON: nesting deeper than 256 levels in 'payload' at byte 282",
            "<stdin>:3: rejected: not valid JSON: number out of range in 'payload' at byte 28",
        ])
    }
}
