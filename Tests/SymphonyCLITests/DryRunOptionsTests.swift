import Foundation
import Testing

/// The dry run's options for comparing and checking outputs (`--stable-ids`, `--summary`,
/// `--expect-match`), and the command-line forms every command accepts.
@Suite struct DryRunOptionsTests {
    static let rules = """
        rules:
          - name: errors
            on: http.request
            when: {field: payload.status, gte: 500}
            actions:
              - publish: {type: http.error, payload: {path: "{{ payload.path }}"}}
          - name: page
            on: http.error
            actions: [{emit: {type: page}}]
          - name: never
            on: http.request
            when: {field: payload.status, equals: 999}
            actions: [stop]
        """
    static let events = """
        {"type":"http.request","payload":{"path":"/a","status":500}}
        {"type":"http.request","id":"given","payload":{"path":"/b","status":200}}
        {"type":"http.request","payload":{"path":"/c","status":503}}

        """

    func rulesFile() throws -> String { try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8)) }

    @Test("--stable-ids: input events without an id are line-N, derived ones d1, d2, …; two runs print the same")
    func stableIDs() throws {
        let rules = try rulesFile()
        let first = try CommandRunner.run(["validate", rules, "--events", "-", "--stable-ids"], stdin: Self.events)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdoutLines.contains("<stdin>:1: http.request (id line-1, priority 5)"))
        #expect(first.stdoutLines.contains("<stdin>:2: http.request (id given, priority 5)"))
        // With times given (an event without one takes the time it is read), two runs print the same.
        let timed = Self.events.replacingOccurrences(of: #"{"type""#, with: #"{"time":"2026-12-01T10:00:00Z","type""#)
        let second = try CommandRunner.run(["validate", rules, "--events", "-", "--stable-ids", "--format", "json"], stdin: timed)
        let third = try CommandRunner.run(["validate", rules, "--events", "-", "--stable-ids", "--format", "json"], stdin: timed)
        #expect(second.stdout.contains(#""id":"d1""#), "\(second.stdout)")
        #expect(second.stdout == third.stdout)
    }

    @Test("--summary: per rule, events seen and matched; input events matched by none; rules that never matched")
    func summary() throws {
        let result = try CommandRunner.run(["validate", try rulesFile(), "--events", "-", "--summary"], stdin: Self.events)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdoutLines == [
                "rule    matched      seen",
                "errors        2         3",
                "page          2         2",
                "never         0         3",
                "input events: 3, matched by a rule: 2, by none: 1; derived events: 2",
                "rules that never matched: never",
            ])
        let json = try CommandRunner.run(["validate", try rulesFile(), "--events", "-", "--summary", "--format", "json"], stdin: Self.events)
        #expect(json.stdoutLines.last?.contains(#""matched_events":2"#) == true, "\(json.stdout)")
        #expect(json.stdoutLines.last?.contains(#"{"matched":0,"rule":"never","seen":3}"#) == true)
    }

    @Test("--expect-match: exit 3 with a message when no rule matched any event, 0 when one did")
    func expectMatch() throws {
        let none = try CommandRunner.run(
            ["validate", try rulesFile(), "--events", "-", "--expect-match"], stdin: #"{"type":"http.request","payload":{"status":200}}"# + "\n")
        #expect(none.status == 3)
        #expect(none.problems.contains("no rule matched any of the 1 input events (--expect-match)"))
        let some = try CommandRunner.run(["validate", try rulesFile(), "--events", "-", "--expect-match"], stdin: Self.events)
        #expect(some.status == 0)
    }

    @Test("a rule no event reached, on a type no rule publishes, is a warning naming the closest type the events have")
    func unreachedRule() throws {
        let rules = try temporaryFile(
            named: "rules.yaml",
            contents: Data(
                """
                rules:
                  - {name: pushes, on: git.pus, actions: [{emit: {type: x}}]}
                  - {name: deploys, on: deploy.done, actions: [{emit: {type: x}}]}
                  - {name: errors, on: http.request, actions: [{publish: {type: http.error}}]}
                  - {name: page, on: http.error, actions: [{emit: {type: page}}]}
                  - {name: later, on: http.retry, actions: [{emit: {type: page}}]}
                  - {name: retry, on: http.error, when: {field: payload.never, exists: true}, actions: [{publish: {type: http.retry}}]}
                  - {name: stopper, on: git.push, priority: 5, actions: [stop]}
                  - {name: shadowed, on: git.push, actions: [{emit: {type: x}}]}
                """.utf8))
        let events = #"{"type":"git.push","payload":{}}"# + "\n" + #"{"type":"http.request","payload":{}}"# + "\n"
        for format in ["text", "json"] {
            let result = try CommandRunner.run(["validate", rules, "--events", "-", "--format", format], stdin: events)
            #expect(result.status == 0, "\(result.stderr)")
            let warnings = result.stderrLines.filter { $0.contains("saw no event") }
            // 'later' saw nothing either, but a rule publishes its type; 'shadowed' saw nothing because
            // 'stopper' stopped its events: no warning for either.
            #expect(
                warnings == [
                    "symphony: warning: rule 'pushes' saw no event: none of the 2 input events or the events they caused has a type its 'on' matches (git.pus), and no rule publishes one; did you mean 'git.push' (1 event)?",
                    "symphony: warning: rule 'deploys' saw no event: none of the 2 input events or the events they caused has a type its 'on' matches (deploy.done), and no rule publishes one; the events have types git.push, http.error, http.request",
                ], "\(result.stderr)")
        }
    }

    @Test("one vocabulary: rule files as PATH or --rules PATH in run, serve and validate; run takes --format (or --output)")
    func vocabulary() throws {
        let rules = try rulesFile()
        let validate = try CommandRunner.run(["validate", "--rules", rules])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdoutLines == ["\(rules): valid: 3 rules, 0 intents"])
        for arguments in [[rules, "--format", "ndjson"], ["--rules", rules, "--output", "ndjson"]] {
            let run = try CommandRunner.run(["run"] + arguments + ["--events", "-", "--no-history"], stdin: Self.events)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdoutLines.filter { $0.contains(#""action":"publish""#) }.count == 2, "\(run.stdout)")
        }
        let missing = try CommandRunner.run(["run", "--events", "-", "--no-history"], stdin: Self.events)
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("Missing rule files: name a rule file or a directory of rule files (PATH or --rules PATH)."))
        let serve = try CommandRunner.run(["serve", "--help"])
        #expect(serve.stdout.contains("USAGE: symphony serve [<options>] [<PATH> ...]"), "\(serve.stdout)")
    }
}
