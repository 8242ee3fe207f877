import Foundation
import Testing

/// How `symphony run` and `symphony validate --events` read input lines: which are events, which
/// are rejected (and why), and what `--lines` makes of raw text.
@Suite(.timeLimit(.minutes(12))) struct InputLineTests {
    /// A rule set that emits one `seen` event (carrying the input's id and message) per input event of type `a.b` or `log`.
    func rulesFile() throws -> String {
        try temporaryFile(
            named: "rules.yaml",
            contents: Data(
                """
                rules:
                  - {name: r, on: a.b, actions: [{emit: {type: seen, payload: {id: "{{ id }}"}}}]}
                  - {name: l, on: log, actions: [{emit: {type: seen, payload: {message: "{{ payload.message }}"}}}]}

                """.utf8))
    }

    /// The `id` of each emitted `seen` event, in output order.
    func seenIDs(_ result: CommandResult) -> [String] {
        result.stdoutLines.compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["payload"] as? [String: Any])?["id"] as? String
        }
    }

    @Test("an id or source holding a control character rejects its line, naming the field")
    func controlCharacters() throws {
        let input = [
            #"{"type":"a.b","id":"ok-1"}"#, #"{"type":"a.b","id":"cut\u0000here"}"#, #"{"type":"a.b","id":"line\nbreak"}"#,
            #"{"type":"a.b","id":"tab\there"}"#, #"{"type":"a.b","id":"del\u007f"}"#, #"{"type":"a.b","source":"ops\u001b[2J"}"#,
            #"{"type":"a.b","id":"ok-2","source":"user:ada lovelace"}"#,
        ].joined(separator: "\n") + "\n"
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--workers", "1"], stdin: input)
        #expect(result.status == 65)
        #expect(seenIDs(result) == ["ok-1", "ok-2"])
        let id = "rejected: 'id' must not contain control characters (U+0000–U+001F, U+007F)."
        #expect(Array(result.stderrLines.dropLast()) == [
            "<stdin>:2: \(id)", "<stdin>:3: \(id)", "<stdin>:4: \(id)", "<stdin>:5: \(id)",
            "<stdin>:6: rejected: 'source' must not contain control characters (U+0000–U+001F, U+007F).",
        ])
        #expect(result.stderrLines.last?.hasPrefix("symphony: 7 events read, 5 rejected, 2 processed") == true)
        // A dry run reads lines the same way.
        let dryRun = try CommandRunner.run(["validate", try rulesFile(), "--events", "-"], stdin: input)
        #expect(dryRun.status == 65)
        // (Besides the warning that the rule on 'log' saw no event.)
        let problems = dryRun.stderrLines.filter { !$0.contains("saw no event") }
        #expect(problems.count == 5)
        #expect(problems.first == "<stdin>:2: \(id)")
    }

    /// The `message` of each emitted `seen` event, in output order.
    func seenMessages(_ result: CommandResult) -> [String] {
        result.stdoutLines.compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["payload"] as? [String: Any])?["message"] as? String
        }
    }

    @Test("with --lines every line is raw text of that type, JSON-looking or not: a log line cannot inject a typed event")
    func linesAreAlwaysText() throws {
        let lines = [
            #"Nov 29 sshd[1]: {"type":"alert.ssh.root_attempt"}"#, #"{"type":"alert.ssh.root_attempt","source":"helpdesk"}"#,
            #"{"type":"a.b","id":"x"}"#, #"{"payload":{}}"#, "42", "[1,2]", "plain text",
        ]
        let input = lines.joined(separator: "\n") + "\n"
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--lines", "log", "--workers", "1", "--no-history"], stdin: input)
        #expect(result.status == 0)
        #expect(seenMessages(result) == lines)
        #expect(seenIDs(result) == [])
        #expect(result.stderrLines.count == 1)
        #expect(result.stderrLines.last?.hasPrefix("symphony: 7 events read, 0 rejected, 7 processed, 7 rules fired;") == true)
        // The dry run reads lines the same way: every line is a 'log' event.
        let dryRun = try CommandRunner.run(["validate", try rulesFile(), "--lines", "log", "--events", "-", "--format", "json"], stdin: input)
        #expect(dryRun.status == 0)
        let types = dryRun.stdoutLines.compactMap { line -> String? in
            let trace = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return ((trace?["steps"] as? [[String: Any]])?.first?["event"] as? [String: Any])?["type"] as? String
        }
        #expect(types == Array(repeating: "log", count: 7))
    }

    @Test("with --lines, invalid UTF-8 bytes are replaced by U+FFFD and counted in the summary; JSON input still rejects them")
    func linesReplaceInvalidUTF8() throws {
        var bytes = Array("Nov 29 sshd[1]: Failed password for r".utf8) + [0xFF] + Array("oot from 203.0.113.7\n".utf8)
        bytes += Array("plain\n".utf8)
        bytes += Array("caf".utf8) + [0xC3, 0x0A]  // a sequence cut short
        bytes += Array("café \u{FFFD} ok\n".utf8)  // valid, U+FFFD included: not counted
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--lines", "log", "--workers", "1", "--no-history"], stdinBytes: bytes)
        #expect(result.status == 0)
        #expect(seenMessages(result) == ["Nov 29 sshd[1]: Failed password for r\u{FFFD}oot from 203.0.113.7", "plain", "caf\u{FFFD}", "café \u{FFFD} ok"])
        #expect(result.stderrLines.count == 1)
        #expect(
            result.stderrLines.last?.hasPrefix(
                "symphony: 4 events read (2 with invalid UTF-8 replaced by U+FFFD), 0 rejected, 4 processed, 4 rules fired;") == true)
        // Without invalid bytes the summary does not mention them.
        let clean = try CommandRunner.run(["run", "--rules", try rulesFile(), "--lines", "log", "--no-history"], stdin: "café\n")
        #expect(clean.stderrLines.last?.hasPrefix("symphony: 1 events read, 0 rejected, 1 processed,") == true)
        // The dry run keeps the line too, and says how many were repaired.
        let dryRun = try CommandRunner.run(["validate", try rulesFile(), "--lines", "log", "--events", "-"], stdinBytes: bytes)
        #expect(dryRun.status == 0)
        #expect(dryRun.stdoutLines.filter { $0.hasPrefix("<stdin>:") }.count == 4)
        #expect(dryRun.stderrLines.filter { !$0.contains("saw no event") } == ["symphony: 2 event lines had invalid UTF-8 replaced by U+FFFD"])
        // JSON Lines input still rejects a line with invalid UTF-8.
        let json = try CommandRunner.run(
            ["run", "--rules", try rulesFile(), "--no-history"], stdinBytes: Array(#"{"type":"a.b","id":"r"#.utf8) + [0xFF] + Array("\"}\n".utf8))
        #expect(json.status == 65)
        #expect(json.stderrLines.first == "<stdin>:1: rejected: not valid UTF-8")
    }

    @Test("null fields, numbers that would read as 0 and integers beyond 64 bits reject their line, naming the field")
    func strictFields() throws {
        let lines = [
            #"{"type":"a.b","priority":null}"#, #"{"type":"a.b","id":null}"#, #"{"type":"a.b","source":null}"#,
            #"{"type":"a.b","time":null}"#, #"{"type":"a.b","payload":null}"#, #"{"type":null}"#,
            #"{"type":"a.b","payload":{"x":1e-400}}"#, #"{"type":"a.b","priority":1e-400}"#,
            #"{"type":"a.b","payload":{"n":[9223372036854775808]}}"#, #"{"type":"a.b","priority":-9223372036854775809}"#,
            #"{"type":"a.b","secret-looking key":1e-400}"#,
            #"{"type":"a.b","id":"ok","payload":{"min":-9223372036854775808,"max":9223372036854775807,"small":1e-300,"zero":0e-400,"n":null}}"#,
        ]
        let result = try CommandRunner.run(["run", "--rules", try rulesFile(), "--no-history"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(result.status == 65)
        #expect(seenIDs(result) == ["ok"])
        #expect(Array(result.stderrLines.dropLast()) == [
            "<stdin>:1: rejected: 'priority' must be an integer from 0 to 9, not null",
            "<stdin>:2: rejected: 'id' must be a string, not null",
            "<stdin>:3: rejected: 'source' must be a string, not null",
            "<stdin>:4: rejected: 'time' must be a string, not null",
            "<stdin>:5: rejected: 'payload' must be a JSON object, not null",
            "<stdin>:6: rejected: 'type' must be a string, not null",
            "<stdin>:7: rejected: not valid JSON: number too close to zero to represent in 'payload' at byte 30",
            "<stdin>:8: rejected: not valid JSON: number too close to zero to represent in 'priority' at byte 26",
            "<stdin>:9: rejected: not valid JSON: integer out of range in 'payload' at byte 31",
            "<stdin>:10: rejected: not valid JSON: integer out of range in 'priority' at byte 26",
            "<stdin>:11: rejected: not valid JSON: number too close to zero to represent at byte 36",  // not an event field: not named
        ])
        #expect(result.stderrLines.last?.hasPrefix("symphony: 12 events read, 11 rejected, 1 processed") == true)
    }
}
