import SymphonyEvents
import SymphonyJSON
import SymphonyRecords
import SymphonyRules
import SymphonyDiagnostics

/// What a rule test expects to happen — or, under `expect_not`, not to happen: a rule firing, or
/// an action with its derived event, message or due time. Every field given must hold; fields
/// left out match anything.
public struct RuleTestExpectation: Sendable {
    /// An event of this type was handled (an input, a published event, a delayed one come due);
    /// `payload` and `at` then apply to it.
    public var event: String?
    /// The rule that fired or ran the action.
    public var rule: String?
    /// The action's kind; nil with no event fields means "the rule fired".
    public var action: ActionKind?
    /// The derived event's type (publish, delay, emit).
    public var type: String?
    /// Fields the derived event's payload must hold (a subset: other fields may be there too).
    public var payload: JSONValue?
    /// The audit message, exactly.
    public var message: String?
    /// When a delayed event is due, from the test's start.
    public var due: Duration?
    /// When the action ran (or the rule fired), from the test's start.
    public var at: Duration?
    /// Exactly this many matches; nil means at least one (none under `expect_not`).
    public var count: Int?
    /// Where it is written.
    public var location: SourceLocation?

    public init() {}

    /// True when it names no action detail: it is about the rule firing.
    var isAboutFiring: Bool { action == nil && type == nil && payload == nil && message == nil && due == nil }

    /// True when `observed` is one of what this expects.
    func matches(_ observed: RuleTestObservation, start: Timestamp) -> Bool {
        if let at, observed.at != start.advanced(by: at) { return false }
        if let event {
            guard observed.rule == nil, observed.trigger.type == event else { return false }
            return payload.map { Self.contains(observed.trigger.payload, $0) } ?? true
        }
        guard let name = observed.rule else { return false }
        if let rule, name != rule { return false }
        if isAboutFiring { return observed.action == nil }
        guard let kind = observed.action, observed.error == nil else { return false }
        if let action, kind != action { return false }
        if let type, observed.derived?.type != type { return false }
        if let payload {
            guard let actual = observed.derived?.payload, Self.contains(actual, payload) else { return false }
        }
        if let message, observed.message != message { return false }
        if let due, observed.due != start.advanced(by: due) { return false }
        return true
    }

    /// True when `actual` holds `expected`: objects hold at least the expected members (each
    /// holding its expected value), everything else is equal as rule conditions compare (5 is 5.0).
    static func contains(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
        if case .object(let wanted) = expected {
            guard case .object(let fields) = actual else { return false }
            return wanted.allSatisfy { key, value in fields[key].map { contains($0, value) } ?? false }
        }
        return RuleEvaluator.equal(actual, expected)
    }

    /// The expectation in one line, as the test's report shows it.
    public var summary: String {
        var parts: [String] = []
        if let event { parts.append("event \(event)") }
        if let rule { parts.append("rule \(rule)") }
        if isAboutFiring && event == nil { parts.append("fires") }
        if let action { parts.append(action.name) }
        if let type { parts.append(type) }
        if let payload { parts.append(payload.jsonText) }
        if let message { parts.append("message \"\(message)\"") }
        if let due { parts.append("due +\(RuleTestObservation.offset(due))") }
        if let at { parts.append("at +\(RuleTestObservation.offset(at))") }
        if let count { parts.append("×\(count)") }
        return parts.joined(separator: " ")
    }
}
