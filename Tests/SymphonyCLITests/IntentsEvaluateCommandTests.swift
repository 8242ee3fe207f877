import Foundation
import Testing

/// `symphony intents evaluate` on the shipped labelled sample and on malformed example files.
@Suite(.timeLimit(.minutes(12))) struct IntentsEvaluateCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = root.appendingPathComponent("rules/support").path
    static let sample = root.appendingPathComponent("samples/intents-labelled.csv").path

    func report(_ arguments: [String]) throws -> [String: Any] {
        let result = try CommandRunner.run(["intents", "evaluate", "--rules", Self.rules, "--format", "json"] + arguments)
        #expect(result.status == 0)
        #expect(result.stderrLines == [])
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test("the shipped support intents on the shipped labelled sample: every figure")
    func shippedSampleFigures() throws {
        let report = try report([Self.sample])
        #expect(report["examples"] as? Int == 54)
        #expect(report["correct"] as? Int == 34)
        #expect(report["accuracy"] as? Double == 0.6296)
        #expect(report["expecting_intent"] as? Int == 45)
        #expect(report["no_intent"] as? Int == 19)
        #expect(report["no_intent_rate"] as? Double == 0.4222)
        #expect(report["expecting_none"] as? Int == 9)
        #expect(report["out_of_scope_hits"] as? Int == 1)
        #expect(report["out_of_scope_false_positive_rate"] as? Double == 0.1111)
        #expect(report["precision"] as? Double == 0.963)  // 26 / 27
        #expect(report["recall"] as? Double == 0.5778)  // 26 / 45
        #expect(report["f1"] as? Double == 0.7222)
        let intents = try #require(report["intents"] as? [[String: Any]])
        #expect(
            intents.map { "\($0["name"]!) \($0["support"]!)/\($0["predicted"]!)/\($0["true_positives"]!)" } == [
                "refund_request 6/2/2", "password_reset 5/1/1", "cancellation 6/4/4", "complaint 5/5/5", "shipping_status 5/5/4",
                "billing_question 5/2/2", "technical_issue 6/3/3", "account_update 4/2/2", "praise 3/3/3",
            ])
        #expect(intents[4]["precision"] as? Double == 0.8)
        let confusions = try #require(report["confusions"] as? [[String: Any]])
        #expect(
            confusions.map { "\($0["expected"] as? String ?? "-")>\($0["predicted"] as? String ?? "-") \($0["count"]!)" } == [
                "password_reset>- 4", "refund_request>- 4", "billing_question>- 3", "technical_issue>- 3", "account_update>- 2",
                "cancellation>- 2", "->shipping_status 1", "shipping_status>- 1",
            ])
        #expect(report["misclassified_count"] as? Int == 20)
        let misclassified = try #require(report["misclassified"] as? [[String: Any]])
        #expect(misclassified.count == 20)
        let falsePositive = try #require(misclassified.last)
        #expect(falsePositive["line"] as? Int == 55)
        #expect(falsePositive["text"] as? String == "Where is the order form for wholesale customers?")
        #expect(falsePositive["expected"] is NSNull)
        let explain = try #require(falsePositive["explain"] as? [[String: Any]])
        #expect(explain.map { $0["name"] as? String } == ["shipping_status"])
        #expect(explain.first?["recognized"] as? Bool == true)
    }

    @Test("the text report: summary, per-intent table, confusions, misclassified texts with their breakdown, sweep")
    func textReport() throws {
        let result = try CommandRunner.run(
            ["intents", "evaluate", "--rules", Self.rules, Self.sample, "--confusions", "1", "--misclassified", "1", "--sweep"])
        #expect(result.status == 0)
        let lines = result.stdoutLines
        #expect(
            Array(lines.prefix(7)) == [
                "examples: 54 (45 expect an intent, 9 expect none)",
                "accuracy: 63.0% (34/54 as expected)",
                "precision: 96.3% (26/27 recognized intents were right)",
                "recall: 57.8% (26/45 expected intents were recognized)",
                "F1: 72.2%",
                "no-intent rate: 42.2% (19/45 expected an intent, got none)",
                "out-of-scope false positives: 11.1% (1/9 expected none, got one)",
            ])
        #expect(lines.contains("refund_request    6        2          100.0%     33.3%   50.0%"))
        #expect(lines.contains("  password_reset → (none): 4"))
        #expect(!lines.contains("  refund_request → (none): 4"))
        let first = try #require(lines.firstIndex(of: "misclassified (20):"))
        #expect(
            lines[first + 1] == "  line 3: expected refund_request, got (none): I returned the shoes last week, when do I get my money back?")
        #expect(
            lines[first + 2]
                == "    refund_request: 0.4 (threshold 0.5) no: score 0.4 is below the threshold 0.5 — keyword 'money back' +0.4")
        #expect(lines[first + 3] == "  … and 19 more (--misclassified N shows more)")
        let sweep = try #require(lines.firstIndex { $0.hasPrefix("T     PRECISION") })
        #expect(lines.count == sweep + 22)
        #expect(lines[sweep + 1] == "own   96.3%      57.8%   72.2%   63.0%     42.2%      11.1%")
    }

    @Test("--sweep in JSON: each intent's own thresholds, then 0.05 to 1.0; lower thresholds trade precision for recall")
    func sweepJSON() throws {
        let report = try report([Self.sample, "--sweep"])
        let rows = try #require(report["sweep"] as? [[String: Any]])
        #expect(rows.count == 21)
        #expect(rows[0]["threshold"] is NSNull)
        #expect(rows[0]["recall"] as? Double == report["recall"] as? Double)
        let thresholds: [Double?] = rows.dropFirst().map { $0["threshold"] as? Double }
        let expected: [Double?] = (1...20).map { Double($0 * 50) / 1000 }
        #expect(thresholds == expected)
        let recalls = rows.dropFirst().compactMap { $0["recall"] as? Double }
        #expect(recalls == recalls.sorted(by: >))
        #expect(try #require(recalls.first) > 0.8)
    }

    @Test("JSON Lines examples, 'none' and --none-label; an undefined intent is a warning with a suggestion")
    func jsonLinesAndUndefinedIntent() throws {
        let file = try temporaryFile(
            named: "examples.jsonl",
            contents: Data(
                """
                {"text": "please refund order 1234", "intent": "refund_requst"}
                {"text": "what a nice day", "intent": "oos"}
                {"text": "I forgot my password, how do I reset it?", "intent": "password_reset"}

                """.utf8))
        let result = try CommandRunner.run(["intents", "evaluate", "--rules", Self.rules, file, "--none-label", "oos", "--format", "json"])
        #expect(result.status == 0)
        #expect(
            result.stderrLines == [
                "\(file):1:1: warning: intent 'refund_requst' is not defined in the rule set, so its texts count as misses; did you mean 'refund_request'?"
            ])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["examples"] as? Int == 3)
        #expect(report["expecting_none"] as? Int == 1)
        #expect(report["correct"] as? Int == 2)
        let intents = try #require(report["intents"] as? [[String: Any]])
        #expect(intents.last?["name"] as? String == "refund_requst")
    }

    @Test("a malformed examples file: every problem with its line, nothing on stdout, exit 65; a missing one exits 66")
    func malformedExamples() throws {
        let file = try temporaryFile(named: "examples.csv", contents: Data("text,intent\nok,praise\na,b,c\n\"never closed,x\n".utf8))
        let result = try CommandRunner.run(["intents", "evaluate", "--rules", Self.rules, file])
        #expect(result.status == 65)
        #expect(result.stdout == "")
        #expect(
            result.stderrLines == [
                "\(file):3:1: error: this row has 3 fields but the header has 2; quote a text that contains a comma",
                "\(file):4:1: error: the quoted field that starts here is never closed",
            ])
        let missing = try CommandRunner.run(["intents", "evaluate", "--rules", Self.rules, "/nonexistent/examples.csv"])
        #expect(missing.status == 66)
        #expect(missing.stderrLines == ["symphony: cannot read the examples file '/nonexistent/examples.csv'"])
        let usage = try CommandRunner.run(["intents", "evaluate", Self.sample])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("Missing '--rules PATH'"))
    }
}
