import Foundation
import SymphonyRecords
import SymphonyStore
import Testing

/// `symphony run` and `validate` with a rule that re-publishes its own type: `validate` warns, and
/// the derived-event budget ends the run.
@Suite(.timeLimit(.minutes(12))) struct FanOutCommandTests {
    static let fanOut = """
        rules:
          - name: fan
            on: "fan.**"
            actions:
              - publish: {type: "{{ type }}"}
              - publish: {type: "{{ type }}"}
              - publish: {type: "{{ type }}"}
              - publish: {type: "{{ type }}"}
        """

    func summary(_ result: CommandResult) -> String? {
        result.stderrLines.first { $0.hasPrefix("symphony: ") && $0.contains(" events read") }
    }

    @Test("validate warns at each templated publish that can re-trigger its own rule; the rules stay valid")
    func validateWarns() throws {
        let rules = try temporaryFile(named: "fan.yaml", contents: Data(Self.fanOut.utf8))
        let result = try CommandRunner.run(["validate", rules])
        #expect(result.status == 0)
        #expect(result.stdoutLines == ["\(rules): valid: 1 rules, 0 intents, 4 warnings"])
        #expect(result.stderrLines == (5...8).map { line in
            "\(rules):\(line):9: warning: rule 'fan' publishes type '{{ type }}', a template that can render to a type its own 'on' matches, "
                + "so it can re-trigger its own rule; the cycle check cannot follow templated types, and at run time only the hop limit "
                + "and the derived-event budget end such a chain"
        })
    }

    @Test("one input event, four re-publishes of its own type: 10,000 derived events, then every publish fails and is recorded")
    func defaultBudget() throws {
        let directory = try freshDirectory()
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.fanOut.utf8))
        let db = directory + "/h.db"
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let result = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: #"{"type":"fan.out","id":"in-1"}"# + "\n")
        #expect(result.status == 0)
        // 10,001 events processed (the input and 10,000 derived), 4 publishes each: 10,000 ok, the rest failed.
        #expect(
            summary(result)?.hasPrefix(
                "symphony: 1 events read, 0 rejected, 10,001 processed, 10,001 rules fired; "
                    + "actions: publish 10,000, delay 0, audit 0, emit 0, stop 0; 30,004 errors;") == true, "\(result.stderr)")
        let reader = try HistoryReader(path: db, sealer: nil)
        #expect(try reader.stats(HistoryQuery()).map { "\($0.rule) \($0.outcome) \($0.count)" } == ["fan failed 30004", "fan ok 10000"])
        var failed = HistoryQuery()
        failed.outcome = "failed"
        #expect(Set(try reader.executions(failed).map(\.error)) == ["derived-event budget of 10000 for input event in-1 exhausted"])
    }

    @Test("--max-derived sets the budget of run and of validate's dry run; below 1 is a usage error")
    func option() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.fanOut.utf8))
        let input = #"{"type":"fan.out","id":"in-1"}"# + "\n"
        let run = try CommandRunner.run(["run", "--rules", rules, "--no-history", "--max-derived", "3"], stdin: input)
        #expect(run.status == 0)
        #expect(summary(run)?.hasPrefix("symphony: 1 events read, 0 rejected, 4 processed, 4 rules fired; actions: publish 3, delay 0, audit 0, emit 0, stop 0; 13 errors;") == true)

        let dryRun = try CommandRunner.run(["validate", rules, "--events", "-", "--max-derived", "2"], stdin: input)
        #expect(dryRun.status == 0)
        let failures = dryRun.stdoutLines.filter { $0.hasSuffix("publish: would fail: derived-event budget of 2 for input event in-1 exhausted") }
        #expect(failures.count == 3 * 4 - 2)  // three events traced, four publishes each, two went out

        for command in [["run", "--rules", rules], ["validate", rules]] {
            let bad = try CommandRunner.run(command + ["--max-derived", "0"])
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("--max-derived must be at least 1, not 0."))
        }
        #expect(try CommandRunner.run(["run", "--help"]).stdout.contains("--max-derived <N>"))
        #expect(try CommandRunner.run(["validate", "--help"]).stdout.contains("--max-derived <N>"))
    }
}
