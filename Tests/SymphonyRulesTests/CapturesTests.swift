import SymphonyEvents
import SymphonyJSON
import SymphonyRegex
import SymphonyRules
import Testing

/// What a rule keeps of its regex matches: named groups, later captures of a name winning, and
/// nothing from branches that did not hold.
@Suite struct CapturesTests {
    static let rules = """
        rules:
          - name: both
            on: t
            when:
              all:
                - {field: payload.a, matches: '(?<word>\\w+)-(?<first>\\d+)'}
                - {field: payload.b, matches: '(?<word>\\w+)(?:/(?<tail>\\w+))?'}
            actions: [stop]
          - name: branches
            on: t
            when:
              any:
                - all: [{field: payload.a, matches: '(?<word>\\w+)'}, {field: payload.missing, exists: true}]
                - {field: payload.b, matches: '(?<other>\\w+)'}
            actions: [stop]
          - name: negated
            on: t
            when:
              all:
                - {not: {field: payload.a, matches: '(?<word>zzz)|(?<never>q)'}}
                - {field: payload.b, matches: '(?<last>\\w+)$'}
            actions: [stop]
        """

    func captures(_ payload: JSONValue) throws -> [String: [String: String]] {
        let ruleSet = try validRules(Self.rules)
        var evaluator = RuleEvaluator(recognizer: ruleSet.recognizer)
        var result: [String: [String: String]] = [:]
        for rule in ruleSet.rules {
            let match = evaluator.evaluate(rule, on: Event(type: "t", payload: payload))
            #expect(match.matched, "\(rule.name)")
            result[rule.name] = match.captures.dictionary
        }
        return result
    }

    @Test("a later condition's capture of a name replaces an earlier one's; a group that took no part is not captured")
    func laterWins() throws {
        let captured = try captures(["a": "alpha-42", "b": "beta"])
        #expect(captured["both"] == ["word": "beta", "first": "42"])
        let withTail = try captures(["a": "alpha-42", "b": "beta/gamma"])
        #expect(withTail["both"] == ["word": "beta", "first": "42", "tail": "gamma"])
    }

    @Test("captures of an 'any' branch that failed, and of a 'not', are dropped")
    func failedBranchesCaptureNothing() throws {
        let captured = try captures(["a": "alpha-42", "b": "beta"])
        #expect(captured["branches"] == ["other": "beta"])
        #expect(captured["negated"] == ["last": "beta"])
    }

    @Test("Captures: lookups by name, the last of a name winning, equality regardless of order")
    func captureList() {
        let captures: Captures = ["a": "1", "b": "2", "a": "3"]
        #expect(captures["a"] == "3")
        #expect(captures["b"] == "2")
        #expect(captures["c"] == nil)
        #expect(captures == ["b": "2", "a": "3"])
        #expect(captures != ["a": "3"])
        #expect(Captures().isEmpty && Captures() == [:])
    }

    @Test("firstCapturedMatch finds what firstMatch finds: range and named groups, repeated names (last wins), empty and absent groups")
    func capturedMatchAgreesWithFirstMatch() throws {
        let cases: [(String, [String])] = [
            ("(?<user>\\w+)@(?<host>[\\w.]+)", ["mail ada@example.org now", "no address", ""]),
            ("(?J)(?<n>a)x|(?<n>b)y", ["ax", "by", "zz"]),
            ("(?J)(?<n>a)(?<n>b)", ["ab"]),
            ("(?<empty>)(?<digits>\\d*)(?<opt>z)?", ["abc", "12"]),
            ("plain (\\d+) and (?<named>\\w+)", ["plain 7 and eight"]),
            ("é(?<rest>.+)", ["café crème"]),
        ]
        for (pattern, subjects) in cases {
            let regex = try RegularExpression(pattern)
            for subject in subjects {
                let full = try regex.firstMatch(in: subject)
                let captured = try regex.firstCapturedMatch(in: subject)
                #expect((full == nil) == (captured == nil), "\(pattern) on \(subject)")
                guard let full, let captured else { continue }
                #expect(captured.utf8Range == full.utf8Range)
                let named = Dictionary(captured.namedCaptures.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
                #expect(named == full.namedGroups, "\(pattern) on \(subject)")
            }
        }
        // A repeated name: both groups are reported in order, and the last is what a lookup sees.
        let repeated = try #require(try RegularExpression("(?J)(?<n>a)(?<n>b)").firstCapturedMatch(in: "ab"))
        #expect(repeated.namedCaptures.map(\.value) == ["a", "b"])
    }
}
