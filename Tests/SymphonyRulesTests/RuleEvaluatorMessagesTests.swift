import SymphonyJSON
import SymphonyEvents
import SymphonyRules
import Testing

/// Why a rule did not match: worded in explain mode (dry runs), left out in run mode.
@Suite struct RuleEvaluatorMessagesTests {
    static let rules = """
        intents:
          - {name: refund, keywords: [{keyword: refund, weight: 0.6}], threshold: 0.5}
        rules:
          - {name: bound, on: t, when: {field: payload.x, gte: 2.5}, actions: [stop]}
          - name: either
            on: t
            when: {any: [{field: payload.a, equals: 1}, {field: payload.b, exists: true}]}
            actions: [stop]
          - {name: negated, on: t, when: {not: {field: payload.x, lt: 10}}, actions: [stop]}
          - {name: intent, on: t, when: {intent: refund}, actions: [stop]}
          - {name: scored, on: t, when: {intent: {name: refund, min_score: 0.9}}, actions: [stop]}
          - {name: textless, on: t, when: {intent: {name: refund, field: payload.x}}, actions: [stop]}
          - {name: pattern, on: t, when: {field: payload.text, matches: '^order \\d+$'}, actions: [stop]}
        """

    func failures(_ mode: RuleEvaluator.Mode, _ payload: JSONValue) throws -> [String: String?] {
        let ruleSet = try validRules(Self.rules)
        var evaluator = RuleEvaluator(recognizer: ruleSet.recognizer, mode: mode)
        var result: [String: String?] = [:]
        for rule in ruleSet.rules {
            let match = evaluator.evaluate(rule, on: Event(type: "t", payload: payload))
            result[rule.name] = match.matched ? "(matched)" : match.failure
        }
        return result
    }

    @Test("explain mode words every kind of failure")
    func explained() throws {
        let messages = try failures(.explain, ["x": 1, "a": 2, "text": "please refund me"])
        #expect(messages["bound"] == "payload.x is 1, not ≥ 2.5")
        #expect(messages["either"] == "no 'any' branch held (payload.a is 2, not 1; payload.b is missing)")
        #expect(messages["negated"] == "the 'not' condition held")
        #expect(messages["scored"] == "intent 'refund' scored 0.6, below min_score 0.9")
        #expect(messages["textless"] == "payload.x is not text, so intent 'refund' cannot be recognized")
        #expect(messages["pattern"] == "payload.text does not match /^order \\d+$/")
        let unrecognized = try failures(.explain, ["x": 1, "a": 2, "text": "hello"])
        #expect(unrecognized["intent"]??.hasPrefix("intent 'refund' is not recognized in payload.text (") == true)
    }

    @Test("run mode leaves failures unworded (the engine never shows them)")
    func runMode() throws {
        let messages = try failures(.run, ["x": 1, "a": 2, "text": "hello"])
        #expect(messages.count == 7)  // none matched, and none says why
        #expect(messages.values.allSatisfy { $0 == nil })
    }
}

/// Literal values in rules are read as YAML reads them.
@Suite struct RuleLiteralValueTests {
    @Test("plain scalars are YAML values (hex, octal, underscores, floats, booleans, null); quoted ones stay strings")
    func yamlValues() throws {
        let ruleSet = try validRules("""
            rules:
              - {name: hex, on: t, when: {field: payload.n, equals: 0x1F}, actions: [stop]}
              - {name: octal, on: t, when: {field: payload.n, equals: 0o37}, actions: [stop]}
              - {name: grouped, on: t, when: {field: payload.big, equals: 1_000}, actions: [stop]}
              - {name: float, on: t, when: {field: payload.x, equals: 2.5}, actions: [stop]}
              - {name: flag, on: t, when: {field: payload.ok, equals: true}, actions: [stop]}
              - {name: nothing, on: t, when: {field: payload.none, equals: null}, actions: [stop]}
              - {name: quoted, on: t, when: {field: payload.s, equals: "31"}, actions: [stop]}
            """)
        var evaluator = RuleEvaluator(recognizer: ruleSet.recognizer)
        let event = Event(type: "t", payload: ["n": 31, "big": 1000, "x": 2.5, "ok": true, "none": .null, "s": "31"])
        let matched = ruleSet.rules.filter { evaluator.evaluate($0, on: event).matched }.map(\.name)
        #expect(matched == ["hex", "octal", "grouped", "float", "flag", "nothing", "quoted"])
    }
}
