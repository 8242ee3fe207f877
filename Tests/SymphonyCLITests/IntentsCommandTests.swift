import Foundation
import Testing

@Suite(.timeLimit(.minutes(12))) struct IntentsCommandTests {
    static let intents = """
        intents:
          - name: refund_request
            patterns:
              - regex: 'refund\\w*\\b.*?order\\s*(?<order>\\d+)'
                weight: 0.6
            keywords:
              - refund
              - { keyword: money back, weight: 0.4 }
          - name: complaint
            keywords:
              - { keyword: terrible, weight: 0.5 }
              - { keyword: refund, weight: 0.1 }
          - name: evil
            patterns: ['(a+)+$']
            keywords: [help]
        """

    func rulesFile(_ text: String = IntentsCommandTests.intents) throws -> String {
        try temporaryFile(named: "intents.yaml", contents: Data(text.utf8))
    }

    @Test("texts given as arguments are classified as JSON Lines, best intent first")
    func argumentsAsJSON() throws {
        let result = try CommandRunner.run(["intents", "--rules", try rulesFile(), "please refund order 1234", "hello"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(
            result.stdoutLines == [
                #"{"intents":[{"evidence":[{"kind":"pattern","matched":"refund order 1234","source":"refund\\w*\\b.*?order\\s*(?<order>\\d+)","weight":0.6},{"kind":"keyword","matched":"refund","source":"refund","weight":0.3}],"name":"refund_request","score":0.9,"slots":{"order":"1234"}}],"text":"please refund order 1234"}"#,
                #"{"intents":[],"text":"hello"}"#,
            ])
    }

    @Test("stdin lines are classified; --top limits; --explain includes intents below threshold with the reason")
    func stdinTopAndExplain() throws {
        let rules = try rulesFile()
        let top = try CommandRunner.run(["intents", "--rules", rules, "--top", "1"], stdin: "terrible! refund order 7, money back\n")
        #expect(top.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(top.stdoutLines[0].utf8)) as? [String: Any]
        let intents = object?["intents"] as? [[String: Any]]
        #expect(intents?.map { $0["name"] as? String } == ["refund_request"])

        let explain = try CommandRunner.run(["intents", "--rules", rules, "--explain", "money back"])
        let explained = try JSONSerialization.jsonObject(with: Data(explain.stdoutLines[0].utf8)) as? [String: Any]
        let rows = explained?["explain"] as? [[String: Any]]
        #expect(rows?.map { $0["name"] as? String } == ["refund_request", "complaint", "evil"])
        #expect(rows?.first?["score"] as? Double == 0.4)
        #expect(rows?.first?["reason"] as? String == "score 0.4 is below the threshold 0.5")
        #expect(rows?.last?["score"] as? Double == 0)
    }

    @Test("the table format shows text, intent, score and slots")
    func table() throws {
        let result = try CommandRunner.run(["intents", "--rules", try rulesFile(), "--format", "table", "refund order 12", "hi"])
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 3)
        #expect(result.stdoutLines[0].hasPrefix("TEXT"))
        #expect(result.stdoutLines[1].contains("refund_request") && result.stdoutLines[1].hasSuffix("order=12"))
        #expect(result.stdoutLines[2].contains("(none)"))
    }

    @Test("a catastrophic pattern is reported on stderr and the run still succeeds")
    func catastrophicPattern() throws {
        let text = "help " + String(repeating: "a", count: 40) + "b"
        let result = try CommandRunner.run(["intents", "--rules", try rulesFile()], stdin: text + "\n")
        #expect(result.status == 0)
        #expect(
            result.stderrLines == [
                "symphony: warning: <stdin>:1: intent 'evil' pattern '(a+)+$': The pattern exceeded its match limit on this text (catastrophic backtracking). It counted as no match."
            ])
        #expect(result.stdoutLines == [#"{"intents":[],"text":"\#(text)"}"#])
    }

    @Test("invalid UTF-8 input lines are rejected with exit 65 and an error record in their place, so output lines match input lines")
    func invalidUTF8() throws {
        let input = Array("refund order 1\n".utf8) + [0xC3, 0x28, 0x0A] + Array("hi\n".utf8)
        let result = try CommandRunner.run(["intents", "--rules", try rulesFile()], stdinBytes: input)
        #expect(result.status == 65)
        #expect(result.stdoutLines.count == 3)
        #expect(result.stdoutLines[0].contains(#""text":"refund order 1""#))
        #expect(result.stdoutLines[1] == #"{"error":"not valid UTF-8","line":2}"#)
        #expect(result.stdoutLines[2] == #"{"intents":[],"text":"hi"}"#)
        #expect(result.stderrLines == ["<stdin>:2: rejected: not valid UTF-8"])

        let table = try CommandRunner.run(["intents", "--rules", try rulesFile(), "--format", "table"], stdinBytes: input)
        #expect(table.status == 65)
        #expect(table.stdoutLines.count == 4)
        #expect(table.stdoutLines[1].contains("refund_request"))
        #expect(table.stdoutLines[2] == "(line 2 rejected: not valid UTF-8)")
        #expect(table.stdoutLines[3].hasPrefix("hi ") && table.stdoutLines[3].contains("(none)"))
        #expect(table.stderrLines == ["<stdin>:2: rejected: not valid UTF-8"])
    }

    @Test("errors in the intents are printed as file:line:column and exit 1")
    func badIntents() throws {
        let rules = try rulesFile("intents:\n  - name: x\n    keywrods: [a]\n    patterns: ['(unclosed']\n")
        let result = try CommandRunner.run(["intents", "--rules", rules, "text"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(
            result.stderrLines == [
                "\(rules):3:5: error: unknown key 'keywrods' in intent 'x'; did you mean 'keywords'?",
                "\(rules):4:26: error: invalid regex in intent 'x': Missing closing parenthesis. (at offset 9)",
            ])
        let regex = try rulesFile("intents:\n  - name: x\n    patterns: ['ok (unclosed']\n")
        let regexResult = try CommandRunner.run(["intents", "--rules", regex, "text"])
        #expect(regexResult.status == 1)
        #expect(regexResult.stderrLines == ["\(regex):3:29: error: invalid regex in intent 'x': Missing closing parenthesis. (at offset 12)"])
    }

    @Test("a missing --rules is a usage error (exit 64)")
    func missingRules() throws {
        let result = try CommandRunner.run(["intents", "text"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Missing '--rules PATH'"))
    }
}
