import Foundation
import SymphonyEvents
import SymphonyRules
import Testing

/// Hostile rule files get a clear error; nothing crashes or hangs. Limits (node count, depth, match limit)
/// are asserted by their outcome, never by wall-clock time; the time limit only guards against a hang.
@Suite(.timeLimit(.minutes(12))) struct HostileRuleFileTests {
    @Test("a YAML alias bomb ('billion laughs') is refused before it expands")
    func aliasBomb() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "rules:\n  - {name: r, on: t, when: {field: payload.x, in: *a9}, actions: [{emit: {type: b, payload: {x: *a9}}}]}\n"
        let (ruleSet, lines) = try loadRules(["bomb.yaml": text])
        #expect(ruleSet == nil)
        #expect(lines == ["bomb.yaml:1:1: error: the document expands to more than 200000 YAML nodes (through aliases?); refusing to load it"])
    }

    @Test("deep flow nesting is refused without exhausting the stack")
    func deepNesting() throws {
        let text = "rules: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
        let (ruleSet, lines) = try loadRules(["deep.yaml": text])
        #expect(ruleSet == nil)
        #expect(lines == ["deep.yaml:1:1: error: the document nests deeper than 256 levels"])
    }

    @Test("a catastrophic regex in a rule loads with a warning and stops at the match limit at run time")
    func catastrophicRegex() throws {
        let (ruleSet, lines) = try loadRules(["r.yaml": "rules:\n  - {name: r, on: t, when: {field: payload.s, matches: '^(a+)+$'}, actions: [stop]}\n"])
        #expect(lines.count == 1)
        #expect(lines.first?.contains("warning: regex '^(a+)+$' backtracks catastrophically") == true)
        var evaluator = RuleEvaluator(recognizer: try #require(ruleSet).recognizer)
        let event = Event(type: "t", payload: ["s": .string(String(repeating: "a", count: 40) + "b")])
        let match = evaluator.evaluate(try #require(ruleSet?.rules.first), on: event)
        #expect(!match.matched)
        #expect(match.problems.count == 1)
        // The same on an opened envelope's event, whose regex runs on the payload's bytes in place:
        // no match and the same one problem.
        let opened = try EventBodyCodec.decode(EventBodyCodec.encode(event), id: event.id, type: event.type, priority: event.priority)
        #expect(opened.encodedPayload != nil)
        var inPlace = RuleEvaluator(recognizer: try #require(ruleSet).recognizer)
        let inPlaceMatch = inPlace.evaluate(try #require(ruleSet?.rules.first), on: opened)
        #expect(!inPlaceMatch.matched)
        #expect(inPlaceMatch.problems == match.problems)
        // The engine's entry point: no match, and the problem counted.
        var problems = 0
        #expect(inPlace.match(try #require(ruleSet?.rules.first), on: opened, problems: &problems) == nil)
        #expect(problems == 1)
        #expect(inPlace.match(try #require(ruleSet?.rules.first), on: Event(type: "t", payload: ["s": "aaa"]), problems: &problems)?.matched == true)
        #expect(problems == 1)
    }

    @Test("templated types and patterns built to make the self-trigger check search widely load with a warning, not a stall")
    func wideSelfTriggerSearch() throws {
        // 128 one-character segments against 128 placeholders each followed by one letter: many
        // state pairs to visit; the check stops at its search limit and warns ("can re-trigger").
        let pattern = Array(repeating: "*", count: 128).joined(separator: ".")
        let type = String(repeating: "{{ payload.p }}x", count: 128)
        let tooLong = "{{ type }}" + String(repeating: "y", count: 257)  // can never render to a valid type: no warning
        let (ruleSet, lines) = try loadRules([
            "wide.yaml": "rules:\n  - {name: wide, on: '\(pattern)', actions: [{publish: {type: '\(type)'}}, {publish: {type: '\(tooLong)'}}]}\n"
        ])
        #expect(ruleSet != nil)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("warning: rule 'wide' publishes type '{{ payload.p }}x{{ payload.p }}x") == true)
    }

    @Test("a rule file that is not UTF-8, or binary garbage, is an error, not a crash")
    func garbage() throws {
        let directory = NSTemporaryDirectory() + "symphony-garbage-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data([0xFF, 0x00, 0xFE, 0x41]).write(to: URL(fileURLWithPath: directory + "/a.yaml"))
        try Data("rules: [\u{0}\u{1}\u{2}".utf8).write(to: URL(fileURLWithPath: directory + "/b.yaml"))
        let (ruleSet, diagnostics) = RuleSetLoader.load(paths: [directory])
        #expect(ruleSet == nil)
        #expect(diagnostics.errors.count == 2)
    }
}
