import Foundation
import SymphonyDiagnostics
import SymphonyIntents
import Testing

@Suite struct IntentSetLoaderTests {
    func write(_ files: [String: String]) throws -> String {
        let directory = NSTemporaryDirectory() + "symphony-intents-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return directory
    }

    @Test("a valid file loads every field, defaults included")
    func validFile() throws {
        let directory = try write([
            "intents.yaml": """
                intents:
                  - name: refund_request
                    threshold: 0.7
                    case_sensitive: true
                    patterns:
                      - regex: 'refund.*order (?<order>\\d+)'
                        weight: 0.55
                      - 'money back'
                    keywords:
                      - refund
                      - { keyword: charged twice, weight: 0.25 }
                    require: order
                    exclude: [no refund needed]
                """
        ])
        let (definitions, diagnostics) = IntentSetLoader.load(paths: [directory])
        #expect(diagnostics.all.isEmpty, "\(diagnostics)")
        let intent = try #require(definitions.first)
        #expect(intent.name == "refund_request")
        #expect(intent.threshold == 700)
        #expect(intent.caseSensitive)
        #expect(intent.patterns.map(\.regex) == ["refund.*order (?<order>\\d+)", "money back"])
        #expect(intent.patterns.map(\.weight) == [550, 600])
        #expect(intent.patterns.first?.location == SourceLocation(file: directory + "/intents.yaml", line: 6, column: 17))
        #expect(intent.keywords.map(\.text) == ["refund", "charged twice"])
        #expect(intent.keywords.map(\.weight) == [300, 250])
        #expect(intent.require == ["order"])
        #expect(intent.exclude == ["no refund needed"])
    }

    @Test("every error in the set is reported in one pass, each as file:line:column with a fix where one exists")
    func diagnostics() throws {
        let directory = try write([
            "a.yaml": """
                intents:
                  - name: refund
                    keywrods: [refund]
                    patterns:
                      - regex: 'order (\\d+'
                      - { regex: 'ok', weight: 2 }
                    threshold: high
                  - patterns: ['x']
                  - name: refund
                    keywords: ['!!!', refund, refund]
                  - name: empty
                extra: 1
                """,
            "b.yaml": "intents: {name: x}\n",
            "c.yaml": "intents:\n  - name: [unclosed\n",
        ])
        let (_, all) = IntentSetLoader.load(paths: [directory])
        let lines = all.sorted.map { $0.description.replacingOccurrences(of: directory + "/", with: "") }
        #expect(
            lines == [
                "a.yaml:3:5: error: unknown key 'keywrods' in intent 'refund'; did you mean 'keywords'?",
                "a.yaml:5:27: error: invalid regex in intent 'refund': Missing closing parenthesis. (at offset 10)",
                "a.yaml:6:32: error: 'weight' must be from 0.001 to 1, not 2",
                "a.yaml:7:16: error: 'threshold' must be a number from 0.001 to 1, not a string",
                "a.yaml:8:5: error: missing required key 'name' in an intent",
                "a.yaml:9:11: error: duplicate intent name 'refund'; it is first defined at a.yaml:2:11",
                "a.yaml:10:17: error: keyword '!!!' has no letters or digits to match",
                "a.yaml:10:31: warning: keyword 'refund' appears twice in intent 'refund'; it counts once",
                "a.yaml:11:11: error: intent 'empty' has no patterns or keywords, so it can never be recognized",
                "a.yaml:12:1: error: unknown key 'extra' in the rule file",
                "b.yaml:1:10: error: 'intents' must be a list, not a mapping",
                "c.yaml:3:1: error: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 11)\n"
                    + "  2 |   - name: [unclosed\n"
                    + "    |           ^\n"
                    + "  hint: inside { … } or [ … ], a value holding , [ ] { } or # must be quoted, as in {field: 'payload.items[0].id'}",
            ])
    }

    @Test("a missing path is an error; a file that is not valid UTF-8 is an error")
    func unreadable() throws {
        let directory = try write([:])
        try Data([0x69, 0x6E, 0x74, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: directory + "/bad.yaml"))
        let (_, diagnostics) = IntentSetLoader.load(paths: [directory + "/missing.yaml", directory + "/bad.yaml"])
        #expect(
            diagnostics.sorted.map(\.description) == [
                "error: '\(directory)/missing.yaml' does not exist",
                "\(directory)/bad.yaml:1:1: error: the file is not valid UTF-8",
            ])
    }

    @Test("the shipped support-triage intents load cleanly and define at least eight intents")
    func shippedExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (definitions, diagnostics) = IntentSetLoader.load(paths: [root.appendingPathComponent("rules/support").path])
        #expect(diagnostics.all.isEmpty, "\(diagnostics)")
        #expect(definitions.count >= 8)
        let recognizer = try IntentRecognizer(definitions)
        let result = recognizer.recognize("I want my money back for order 1234")
        #expect(result.intents.first?.name == "refund_request")
        #expect(result.intents.first?.slots == ["order": "1234"])
    }
}
