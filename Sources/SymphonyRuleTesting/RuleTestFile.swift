import Foundation
import SymphonyDiagnostics
import SymphonyEvents
import SymphonyJSON
import SymphonyRecords
import SymphonyRules

/// A rule test file (`NAME.test.yaml`, beside the rules it tests):
///
/// ```yaml
/// rules: [sshd.yaml]             # optional: the rule files, relative to this file (default: its directory)
/// tests:
///   - name: five failures within ten minutes ban the address
///     start: 2026-11-29T03:00:00Z  # optional: time zero of the virtual clock
///     events:
///       - {at: 0s, type: login.failed, payload: {ip: 203.0.113.9}}
///       - {at: 1m, line: "Nov 29 03:01:00 web-1 sshd[1]: Failed password …", type: sshd.log}
///     expect:
///       - {rule: ban, action: emit, type: ip.ban, payload: {ip: 203.0.113.9}, count: 1}
///     expect_not:
///       - {action: exec}
/// ```
///
/// Reading is in two steps: `read(path:)` parses the file and names the rule files, then
/// `cases(in:ruleSet:)` checks the tests against the loaded rules (rule names, `lines:` types).
public struct RuleTestFile {
    /// The test file as the user named it.
    public let path: String
    /// The rule files and directories it tests.
    public let rulePaths: [String]
    /// The `tests` node, read by `cases(ruleSet:into:)`.
    private let tests: YAMLNode?

    /// Keys of a test file, a test, an input and an expectation.
    static let fileKeys = ["rules", "tests"]
    static let caseKeys = ["name", "start", "events", "expect", "expect_not"]
    static let eventKeys = ["at", "type", "payload", "priority", "source", "id", "line"]
    static let expectationKeys = ["event", "rule", "action", "type", "payload", "message", "due", "at", "count"]
    /// Time zero when a test gives no `start`.
    public static let defaultStart = Timestamp(secondsSinceEpoch: 1_767_225_600)  // 2026-01-01T00:00:00Z

    /// Parses the file at `path`; nil (with diagnostics) when it is not a test file one can use.
    public static func read(path: String, into diagnostics: inout Diagnostics) -> RuleTestFile? {
        guard let root = YAMLSource.load(path: path, into: &diagnostics) else {
            if !diagnostics.hasErrors { diagnostics.error(at: SourceLocation(file: path, line: 1, column: 1), "the test file is empty; it needs 'tests'") }
            return nil
        }
        guard let fields = root.fields(of: "the test file", allowed: fileKeys, required: ["tests"], into: &diagnostics) else { return nil }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var rulePaths = [directory]
        if let node = fields["rules"] {
            guard let listed = node.stringList("'rules'", into: &diagnostics) else { return nil }
            rulePaths = listed.map { $0.0.hasPrefix("/") ? $0.0 : directory + "/" + $0.0 }
        }
        return RuleTestFile(path: path, rulePaths: rulePaths, tests: fields["tests"])
    }

    /// The tests, checked against `ruleSet`; problems are reported with their location, and a
    /// test with a problem is left out.
    public func cases(ruleSet: RuleSet, into diagnostics: inout Diagnostics) -> [RuleTestCase] {
        guard let section = tests, let items = section.list("'tests'", into: &diagnostics) else { return [] }
        var cases: [RuleTestCase] = []
        var names: [String: SourceLocation] = [:]
        for item in items {
            let errorsBefore = diagnostics.errors.count
            guard let fields = item.fields(of: "a test", allowed: Self.caseKeys, required: ["name", "events"], into: &diagnostics),
                let name = fields["name"]?.string("a test's 'name'", into: &diagnostics)
            else { continue }
            if let first = names[name] {
                diagnostics.error(at: item.location, "duplicate test name '\(name)'; it is first used at \(first)")
            }
            names[name] = item.location
            var start = Self.defaultStart
            if let node = fields["start"], let text = node.string("'start'", into: &diagnostics) {
                if let parsed = TimestampParser.parse(text) {
                    start = parsed
                } else {
                    diagnostics.error(at: node.location, "'start' must be an RFC 3339 time such as 2026-01-01T00:00:00Z, not '\(text)'")
                }
            }
            var inputs: [RuleTestInput] = []
            var expected: [RuleTestExpectation] = []
            var forbidden: [RuleTestExpectation] = []
            if let node = fields["events"] { inputs = self.inputs(in: node, test: name, start: start, ruleSet: ruleSet, into: &diagnostics) }
            if let node = fields["expect"] { expected = expectations(in: node, what: "'expect'", ruleSet: ruleSet, into: &diagnostics) }
            if let node = fields["expect_not"] {
                forbidden = expectations(in: node, what: "'expect_not'", forbidding: true, ruleSet: ruleSet, into: &diagnostics)
            }
            if expected.isEmpty && forbidden.isEmpty {
                diagnostics.error(at: item.location, "test '\(name)' expects nothing; give it 'expect' or 'expect_not'")
            }
            guard diagnostics.errors.count == errorsBefore else { continue }
            cases.append(RuleTestCase(name: name, location: item.location, start: start, inputs: inputs, expectations: expected, forbidden: forbidden))
        }
        return cases
    }

    private func inputs(in node: YAMLNode, test: String, start: Timestamp, ruleSet: RuleSet, into diagnostics: inout Diagnostics) -> [RuleTestInput] {
        guard let items = node.list("'events'", into: &diagnostics) else { return [] }
        var inputs: [RuleTestInput] = []
        var offset: Duration = .zero
        for (index, item) in items.enumerated() {
            guard let fields = item.fields(of: "an event of test '\(test)'", allowed: Self.eventKeys, required: ["type"], into: &diagnostics),
                let type = fields["type"]?.string("an event's 'type'", into: &diagnostics)
            else { continue }
            if let node = fields["at"], let at = Self.duration(node, what: "'at'", into: &diagnostics) {
                if at < offset {
                    diagnostics.error(at: node.location, "events are listed in time order: 'at' \(RuleTestObservation.offset(at)) is before the event above it")
                }
                offset = at
            }
            let time = start.advanced(by: offset)
            let id = fields["id"]?.string("an event's 'id'", into: &diagnostics) ?? "t\(index + 1)"
            if let node = fields["line"] {
                guard let text = node.string("'line'", into: &diagnostics) else { continue }
                for key in ["payload", "priority", "source"] where fields[key] != nil {
                    diagnostics.error(at: fields[key]!.location, "an event given as a 'line' takes its fields from the line; '\(key)' cannot be set")
                }
                if ruleSet.lineParsers[type] == nil {
                    diagnostics.warning(
                        at: fields["type"]!.location, "the rule set has no 'lines:' parser for '\(type)': the line becomes {\"message\": LINE} only")
                }
                inputs.append(.line(type: type, text: text, id: id, time: time))
                continue
            }
            var payload: JSONValue = [:]
            if let node = fields["payload"], let value = RuleSetLoader.jsonValue(node, into: &diagnostics) { payload = value }
            var priority = Event.defaultPriority
            if let node = fields["priority"], let value = node.number("'priority'", in: 0...9, into: &diagnostics) { priority = Int(value) }
            let source = fields["source"]?.string("'source'", into: &diagnostics)
            do {
                try Event.validate(type: type, priority: priority)
            } catch let error as EventsError {
                diagnostics.error(at: fields["type"]!.location, error.message)
                continue
            } catch {
                continue
            }
            inputs.append(.event(Event(type: type, payload: payload, priority: priority, id: id, source: source, time: time)))
        }
        return inputs
    }

    private func expectations(
        in node: YAMLNode, what: String, forbidding: Bool = false, ruleSet: RuleSet, into diagnostics: inout Diagnostics
    ) -> [RuleTestExpectation] {
        guard let items = node.list(what, into: &diagnostics) else { return [] }
        var expectations: [RuleTestExpectation] = []
        for item in items {
            guard let fields = item.fields(of: "an entry of \(what)", allowed: Self.expectationKeys, into: &diagnostics) else { continue }
            var expectation = RuleTestExpectation()
            expectation.location = item.location
            if let node = fields["event"] {
                expectation.event = node.string("'event'", into: &diagnostics)
                for key in ["rule", "action", "type", "message", "due"] where fields[key] != nil {
                    diagnostics.error(
                        at: fields[key]!.location, "'\(key)' does not go with 'event' (an event handled: its 'payload' and 'at' apply to it)")
                }
            }
            if let node = fields["rule"], let name = node.string("'rule'", into: &diagnostics) {
                if ruleSet.rule(named: name) == nil {
                    diagnostics.error(at: node.location, "no rule is named '\(name)'\(NameSuggestion.hint(for: name, in: ruleSet.rules.map(\.name)))")
                }
                expectation.rule = name
            }
            if let node = fields["action"], let name = node.string("'action'", into: &diagnostics) {
                if let kind = ActionKind.allCases.first(where: { $0.name == name }) {
                    expectation.action = kind
                } else {
                    let names = ActionKind.allCases.map(\.name)
                    diagnostics.error(at: node.location, "'action' must be one of \(names.joined(separator: ", ")), not '\(name)'\(NameSuggestion.hint(for: name, in: names))")
                }
            }
            expectation.type = fields["type"]?.string("'type'", into: &diagnostics)
            if let node = fields["payload"] { expectation.payload = RuleSetLoader.jsonValue(node, into: &diagnostics) }
            expectation.message = fields["message"]?.string("'message'", into: &diagnostics)
            if let node = fields["due"] { expectation.due = Self.duration(node, what: "'due'", into: &diagnostics) }
            if let node = fields["at"] { expectation.at = Self.duration(node, what: "'at'", into: &diagnostics) }
            if forbidding, let node = fields["count"] {
                diagnostics.error(at: node.location, "'count' has no place under 'expect_not' (nothing may match); write 'count: 0' under 'expect' instead")
            } else if let node = fields["count"], let count = node.number("'count'", in: 0...1_000_000, into: &diagnostics) {
                guard count == count.rounded() else {
                    diagnostics.error(at: node.location, "'count' must be a whole number")
                    continue
                }
                expectation.count = Int(count)
            }
            if expectation.event == nil && expectation.rule == nil && expectation.action == nil && expectation.type == nil && expectation.message == nil {
                diagnostics.error(at: item.location, "an entry of \(what) must name at least one of 'event', 'rule', 'action', 'type' or 'message'")
            }
            expectations.append(expectation)
        }
        return expectations
    }

    /// An offset such as `0s`, `90s`, `5m` or `2d` (a bare 0 is allowed).
    private static func duration(_ node: YAMLNode, what: String, into diagnostics: inout Diagnostics) -> Duration? {
        guard let text = node.scalarText, !node.isNull else {
            diagnostics.error(at: node.location, "\(what) must be a duration such as 30s, 5m or 2d, not \(node.kindDescription)")
            return nil
        }
        if text == "0" { return .zero }
        guard let duration = DurationParser.parse(text) else {
            diagnostics.error(at: node.location, "\(what) must be a duration such as 30s, 5m or 2d, not '\(text)'")
            return nil
        }
        return duration
    }
}
