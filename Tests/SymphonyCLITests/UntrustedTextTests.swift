import Foundation
import Testing

/// Text from input events reaches tables, traces, CSV and messages: it must not break their
/// structure or reach the terminal as control characters.
@Suite(.timeLimit(.minutes(12))) struct UntrustedTextTests {
    /// A workspace whose history holds `lines`, run through `rules` (by default, one audit of each event's id).
    func workspace(
        _ lines: [String], rules: String = "rules:\n  - {name: note, on: '**', actions: [{audit: 'saw {{ id }}'}]}\n", policy: String? = nil
    ) throws -> (directory: String, run: CommandResult) {
        let directory = try freshDirectory()
        try Data(rules.utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        var arguments = ["run", "--rules", "rules.yaml"]
        if let policy {
            try Data(policy.utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
            arguments += ["--policy", "policy.yaml", "--as", "user:ops"]
        }
        let run = try CommandRunner.run(arguments, stdinData: Data((lines.joined(separator: "\n") + "\n").utf8), directory: directory)
        return (directory, run)
    }

    @Test("control characters in texts are escaped in the history table, traces and the audit list; CSV quotes CRLF")
    func controlCharacters() throws {
        // Ids and sources cannot hold control characters (such lines are rejected), but payload text
        // can, and reaches the audit message and a failed delay's error (its 'at' is not a time).
        let rules = "rules:\n  - {name: note, on: '**', actions: [{audit: 'saw {{ payload.text }}'}, {delay: {at: '{{ payload.text }}', type: later}}]}\n"
        let (directory, run) = try workspace(
            [
                #"{"type":"a.b","id":"forged","payload":{"text":"x\n2026-11-29T09:00:00Z  FORGED  ok"}}"#,
                #"{"type":"a.b","id":"red","payload":{"text":"\u001b[31mred"}}"#, #"{"type":"a.b","id":"crlf","payload":{"text":"crlf\r\nx"}}"#,
            ], rules: rules)
        #expect(run.status == 0)
        for arguments in [["history"], ["audit", "list"], ["history", "--trace", "red"]] {
            let result = try CommandRunner.run(arguments, stdinData: nil, directory: directory)
            #expect(result.status == 0, "\(arguments)")
            #expect(!result.stdout.unicodeScalars.contains { $0.value == 0x1B || $0 == "\r" }, "\(arguments)")
            #expect(!result.stdoutLines.contains { $0.contains("FORGED") && !$0.contains("\\n") }, "\(arguments): a forged line")
            if arguments != ["audit", "list"] { #expect(result.stdout.contains("\\u{1B}[31mred"), "\(arguments)") }
        }
        let csv = try CommandRunner.run(["history", "--format", "csv"], stdinData: nil, directory: directory)
        #expect(csv.stdout.contains(",\"'at' rendered to 'crlf\r\nx', which is not an RFC 3339 time\"\n"))
        // A rejected line's reason quotes its type escaped.
        let rejected = try CommandRunner.run(
            ["run", "--rules", "rules.yaml", "--no-history"], stdinData: Data(#"{"type":"a\u001b[2Jb"}"#.utf8 + [0x0A]), directory: directory)
        #expect(rejected.status == 65)
        #expect(rejected.stderr.contains("\\u{1B}[2J"))
        #expect(!rejected.stderr.unicodeScalars.contains { $0.value == 0x1B })
    }

    @Test("a wildcard --type never matches a refused input event (it has no type); JSON leaves its type out")
    func wildcardSkipsRefusedInput() throws {
        let policy = "roles:\n  op: [\"rules:load\", \"history:read\", \"events:publish:order.*\"]\nprincipals:\n  user:ops: [op]\n"
        let (directory, run) = try workspace([#"{"type":"order.placed","id":"o-1"}"#, #"{"type":"x.y","id":"x-1"}"#], policy: policy)
        #expect(run.status == 0)
        let wildcard = try CommandRunner.run(["history", "--type", "**", "--format", "json"], stdinData: nil, directory: directory)
        #expect(jsonLines(wildcard.stdout).compactMap { $0["event"] as? String } == ["o-1"])
        let all = try CommandRunner.run(["history", "--format", "json"], stdinData: nil, directory: directory)
        let refused = jsonLines(all.stdout).first { $0["event"] as? String == "x-1" }
        #expect(refused?["outcome"] as? String == "denied")
        #expect(refused?["type"] == nil)
    }

    @Test("a trace deeper than 64 names the derived event where it stops")
    func deepTrace() throws {
        let directory = try freshDirectory()
        let rules = "rules:\n" + (0..<70).map { "  - {name: c\($0), on: chain.s\($0), actions: [{publish: {type: chain.s\($0 + 1)}}]}\n" }.joined()
        try Data(rules.utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        let run = try CommandRunner.run(
            ["run", "--rules", "rules.yaml", "--hop-limit", "100"], stdinData: Data(#"{"type":"chain.s0","id":"root"}"#.utf8 + [0x0A]), directory: directory)
        #expect(run.status == 0)
        let table = try CommandRunner.run(["history", "--trace", "root"], stdinData: nil, directory: directory)
        #expect(table.stdoutLines.filter { $0.contains("(not followed: the trace stops at depth 64") }.count == 1)
        let json = try CommandRunner.run(["history", "--trace", "root", "--format", "json"], stdinData: nil, directory: directory)
        #expect(json.stdout.contains("\"derived_id\""))
    }
}
