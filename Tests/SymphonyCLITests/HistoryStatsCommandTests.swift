import Foundation
@testable import SymphonyStore
import Testing

/// `symphony history --stats`: exact figures per rule, action and outcome, and the rules that never fired.
@Suite(.timeLimit(.minutes(12))) struct HistoryStatsCommandTests {
    static let rules = """
        rules:
          - name: greet
            on: hello
            actions:
              - emit: {type: hi}
              - publish: {type: hello.done}
          - name: fail
            on: hello.done
            actions:
              - publish: {type: "bad.{{ payload.nothing }}"}
          - name: quiet
            on: never.seen
            actions:
              - emit: {type: nothing}
        """

    /// Nearest-rank percentiles of a rule's, action's and outcome's durations, straight from the rows.
    static func percentiles(_ db: String, rule: String, kind: Int, outcome: Int) throws -> (Int64, Int64) {
        let durations = try SQLiteDatabase(path: db, readOnly: true, create: false).prepare(
            "SELECT duration_us FROM executions WHERE rule = ? AND kind = ? AND outcome = ? ORDER BY duration_us"
        ).rows([.text(rule), .int(Int64(kind)), .int(Int64(outcome))]) { $0.int(0) }
        let n = durations.count
        return (durations[(n + 1) / 2 - 1], durations[(n * 95 + 99) / 100 - 1])
    }

    @Test("--stats gives exact counts, distinct events fired on and p50/p95 per rule, action and outcome, and lists the rules that never fired")
    func exactFigures() throws {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let input = (1...3).map { #"{"type":"hello","id":"h-\#($0)"}"# + "\n" }.joined()
        #expect(try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: input).status == 0)
        // A second run acts on h-1 again (a reused id): more executions, but still 3 distinct events.
        #expect(try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: #"{"type":"hello","id":"h-1"}"# + "\n").status == 0)
        let common = ["--db", db, "--key-file", key]

        let json = try CommandRunner.run(["history", "--stats", "--format", "json"] + common)
        #expect(json.status == 0, "\(json.stderr)")
        let rows = jsonLines(json.stdout)
        let (failP50, failP95) = try Self.percentiles(db, rule: "fail", kind: 1, outcome: 1)
        let (emitP50, emitP95) = try Self.percentiles(db, rule: "greet", kind: 4, outcome: 0)
        let (publishP50, publishP95) = try Self.percentiles(db, rule: "greet", kind: 1, outcome: 0)
        func line(_ row: [String: Any]) -> String {
            ["rule", "fired", "action", "outcome", "count", "p50_us", "p95_us"].map { key in
                (row[key] as? String) ?? (row[key] as? Int).map(String.init) ?? "-"
            }.joined(separator: " ") + ((row["never_fired"] as? Bool) == true ? " never" : "")
        }
        #expect(rows.map(line) == [
            "fail 4 publish failed 4 \(failP50) \(failP95)",
            "greet 3 emit ok 4 \(emitP50) \(emitP95)",
            "greet 3 publish ok 4 \(publishP50) \(publishP95)",
            // Never fired: the rule set the last run loaded is read again.
            "quiet 0 - - - - - never",
        ])

        let table = try CommandRunner.run(["history", "--stats", "--rules", rules] + common)
        #expect(table.stdoutLines.first?.hasPrefix("RULE   FIRED  ACTION   OUTCOME  COUNT  P50_US") == true, "\(table.stdout)")
        #expect(table.stdoutLines.last == "never fired (rules of \(rules) with no execution): quiet", "\(table.stdout)")
        let csv = try CommandRunner.run(["history", "--stats", "--rules", rules, "--format", "csv"] + common)
        #expect(csv.stdoutLines.first == "rule,fired,action,outcome,count,p50_us,p95_us")
        #expect(csv.stdoutLines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(5).joined(separator: ",") } == [
            "fail,4,publish,failed,4", "greet,3,emit,ok,4", "greet,3,publish,ok,4", "quiet,0,,,",
        ])

        // Filters: only greet; the rows themselves (a time filter) give what the summary gives.
        let greet = try CommandRunner.run(["history", "--stats", "--rule", "greet", "--rules", rules] + common)
        #expect(greet.stdoutLines.last == "never fired (rules of \(rules) with no execution matching the filters): fail, quiet", "\(greet.stdout)")
        let fromRows = try CommandRunner.run(["history", "--stats", "--since", "1h", "--format", "json"] + common)
        #expect(fromRows.stdout == json.stdout)
        let failedOnly = try CommandRunner.run(["history", "--stats", "--status", "failed", "--format", "csv"] + common)
        #expect(failedOnly.stdoutLines.dropFirst().first?.hasPrefix("fail,4,publish,failed,4,") == true, "\(failedOnly.stdout)")

        // A prune keeps the summary exact: after it, summary and rows still agree.
        #expect(try CommandRunner.run(["history", "prune", "--before", "0s"] + common).status == 0)
        #expect(try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: #"{"type":"hello","id":"h-9"}"# + "\n").status == 0)
        let after = try CommandRunner.run(["history", "--stats", "--format", "csv"] + common)
        #expect(after.stdout == (try CommandRunner.run(["history", "--stats", "--since", "1h", "--format", "csv"] + common)).stdout)
        #expect(after.stdoutLines.dropFirst().map { $0.split(separator: ",").prefix(5).joined(separator: ",") } == [
            "fail,1,publish,failed,1", "greet,1,emit,ok,1", "greet,1,publish,ok,1", "quiet,0",
        ])

        let misplaced = try CommandRunner.run(["history", "--rules", rules] + common)
        #expect(misplaced.status == 64)
        #expect(misplaced.stderr.contains("--rules applies to --state and --stats only."))
        #expect(try CommandRunner.run(["history", "--help"]).stdout.contains("rules that never fired"))
    }
}
