import Foundation
import Testing

/// `--json TYPE` and `--type-from FIELD`: JSON application logs, whose lines have no `type`.
@Suite struct JSONLogLinesTests {
    static let rules = """
        rules:
          - name: slow
            on: app.log
            when: {field: payload.duration_ms, gt: 500}
            actions: [{emit: {type: slow, payload: {path: "{{ payload.path }}"}}}]
          - name: errors
            on: error
            actions: [{emit: {type: err, payload: {msg: "{{ payload.msg }}"}}}]
        """
    static let log = """
        {"level":"info","path":"/a","duration_ms":900}
        {"level":"error","msg":"boom"}
        {"level":"bad type!","msg":"x"}
        [1]

        """

    @Test("--json TYPE: each object is the payload of an event of TYPE; a line that is not an object is rejected with its line")
    func fixedType() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let run = try CommandRunner.run(["run", rules, "--json", "app.log", "--no-history"], stdin: Self.log)
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stdoutLines.count == 1)
        #expect(run.stdout.contains(#""payload":{"path":"/a"}"#))
        #expect(run.stderrLines.contains("<stdin>:4: rejected: not a JSON object"))
        let dryRun = try CommandRunner.run(["validate", rules, "--events", "-", "--json", "app.log", "--summary"], stdin: Self.log)
        #expect(dryRun.stdoutLines.contains("input events: 3, matched by a rule: 1, by none: 2; derived events: 0"), "\(dryRun.stdout)")
    }

    @Test("--type-from FIELD: the type is the field's value; a missing field or an invalid type rejects the line")
    func typeFromField() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let run = try CommandRunner.run(["run", rules, "--type-from", "level", "--no-history"], stdin: Self.log)
        #expect(run.status == 65)
        #expect(run.stdoutLines.count == 1)
        #expect(run.stdout.contains(#""payload":{"msg":"boom"}"#))
        #expect(run.stderrLines.contains { $0.hasPrefix("<stdin>:3: rejected: the event type is not valid:") }, "\(run.stderr)")
        let missing = try CommandRunner.run(["run", rules, "--type-from", "kind", "--no-history"], stdin: #"{"level":"x"}"# + "\n")
        #expect(missing.stderrLines.contains("<stdin>:1: rejected: the field 'kind' that names the event type is missing or not a string"))
    }

    @Test("--json, --type-from and --lines exclude each other; --json takes a valid type")
    func contradictions() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let both = try CommandRunner.run(["run", rules, "--json", "a", "--type-from", "level"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("--json and --type-from contradict each other"))
        let lines = try CommandRunner.run(["validate", rules, "--events", "-", "--lines", "x", "--json", "a"])
        #expect(lines.status == 64)
        #expect(lines.stderr.contains("--lines reads raw text and --json reads JSON: give one."))
        let bad = try CommandRunner.run(["run", rules, "--json", "a..b"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--json: "))
    }
}
