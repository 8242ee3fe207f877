import SymphonyJSON
import SymphonyEvents
import SymphonyIntents
import SymphonyRegex

/// The outcome of testing one rule's condition on one event.
public struct RuleMatch: Sendable {
    /// The rule.
    public let rule: Rule
    /// True when the condition held (or the rule has none).
    public let matched: Bool
    /// Named captures of the `matches` conditions that held.
    public let captures: Captures
    /// The intent the rule's `intent` condition recognized (the first one that held).
    public let intent: IntentMatch?
    /// For a rule that did not match: the first condition that failed, in words — in `explain`
    /// mode only (`run` mode skips composing messages nobody reads; the engine never shows them).
    public let failure: String?
    /// Regex resource-limit problems met while evaluating (the regex counted as not matching).
    public let problems: [String]
}

/// Tests rule conditions on events; recognizes each text field's intents at most once per event.
public struct RuleEvaluator {
    /// Whether intent conditions record scores of intents below threshold (for explanations).
    public enum Mode: Sendable {
        /// Fast: only recognized intents are computed, and failures are not put into words.
        case run
        /// Every intent's score is computed, and each failure is described, saying how close an intent came.
        case explain
    }

    let recognizer: IntentRecognizer
    let mode: Mode
    /// The intents recognized in each text field read so far (an event's rules read one or two, so a list).
    private var intentCache: [(field: String, scores: [IntentScore])] = []

    /// An evaluator for one event; make a new one per event.
    public init(recognizer: IntentRecognizer, mode: Mode = .run) {
        self.recognizer = recognizer
        self.mode = mode
    }

    /// Tests `rule`'s condition on `event`.
    public mutating func evaluate(_ rule: Rule, on event: Event) -> RuleMatch {
        var state = State(explains: mode == .explain)
        let matched = rule.when.map { test($0, event, &state) } ?? true
        return RuleMatch(
            rule: rule, matched: matched, captures: matched ? state.captures : Captures(), intent: matched ? state.intent : nil,
            failure: matched ? nil : state.failure, problems: state.problems)
    }

    /// `evaluate` for the engine: nil when the condition does not hold (no match is built for the
    /// rules that do not apply); adds the regex resource-limit problems met to `problems` either way.
    public mutating func match(_ rule: Rule, on event: Event, problems: inout Int) -> RuleMatch? {
        var state = State(explains: mode == .explain)
        let matched = rule.when.map { test($0, event, &state) } ?? true
        problems += state.problems.count
        guard matched else { return nil }
        return RuleMatch(rule: rule, matched: true, captures: state.captures, intent: state.intent, failure: nil, problems: state.problems)
    }

    private struct State {
        /// Whether failures are put into words (explain mode).
        let explains: Bool
        var captures = Captures()
        var intent: IntentMatch?
        var failure: String?
        var problems: [String] = []

        /// Records that `regex` stopped at a resource limit on the field at `path` (counted as no match).
        mutating func regexStopped(_ regex: RegularExpression, on path: String, _ error: RegexError) {
            problems.append("/\(regex.pattern)/ on \(path): \(error.message)")
        }

        /// Records why a condition failed, composing the message only when explaining; returns false.
        mutating func fail(_ message: @autoclosure () -> String) -> Bool {
            if explains { failure = message() }
            return false
        }
    }

    private mutating func test(_ condition: Condition, _ event: Event, _ state: inout State) -> Bool {
        switch condition {
        case .all(let conditions, _):
            for condition in conditions where !test(condition, event, &state) { return false }
            return true
        case .any(let conditions, _):
            var failures: [String] = []
            for condition in conditions {
                var branch = state
                if test(condition, event, &branch) {
                    state = branch
                    return true
                }
                if state.explains { failures.append(branch.failure ?? "a condition failed") }
                state.problems = branch.problems
            }
            return state.fail("no 'any' branch held (\(failures.joined(separator: "; ")))")
        case .not(let inner, _):
            var scratch = state
            if test(inner, event, &scratch) {
                state.problems = scratch.problems
                return state.fail("the 'not' condition held")
            }
            state.problems = scratch.problems
            return true
        case .field(let path, let fieldTest, _):
            return testField(path, fieldTest, event, &state)
        case .intent(let name, let minimum, let field, _):
            return testIntent(name, minimum, field, event, &state)
        }
    }

    private func testField(_ fieldPath: FieldPath, _ fieldTest: FieldTest, _ event: Event, _ state: inout State) -> Bool {
        if case .matches(let regex) = fieldTest, !state.explains, let encoded = event.encodedPayload, fieldPath.segments.first == "payload" {
            // The regex runs on the payload's bytes in place; no string is made of the subject.
            // Only ASCII text: the JIT does not check UTF-8, and an envelope's bytes are only as
            // valid as whoever sealed them (the general path repairs invalid bytes first).
            let outcome = encoded.withString(at: fieldPath.segments.dropFirst()) { bytes -> Result<CapturedMatch?, RegexError>? in
                guard ByteScan.isASCII(bytes) else { return nil }
                return Result { () throws(RegexError) in try regex.firstCapturedMatch(inUTF8: bytes) }
            } ?? nil  // nil: not text, or not ASCII (the general path below)
            switch outcome {
            case .success(let match?):
                state.captures.add(match.namedCaptures)
                return true
            case .success(nil): return false
            case .failure(let error):
                state.regexStopped(regex, on: fieldPath.text, error)
                return false
            case nil: break
            }
        }
        let value = Self.value(at: fieldPath, in: event)
        let path = fieldPath.text
        func fail(_ message: @autoclosure () -> String) -> Bool { state.fail(message()) }
        func shown(_ value: JSONValue?) -> String { value.map(\.jsonText) ?? "missing" }
        switch fieldTest {
        case .exists(let expected):
            if (value != nil) == expected { return true }
            return fail(expected ? "\(path) is missing" : "\(path) exists")
        case .equals(let expected):
            if let value, Self.equal(value, expected) { return true }
            return fail("\(path) is \(shown(value)), not \(expected.jsonText)")
        case .notEquals(let expected):
            if let value, Self.equal(value, expected) { return fail("\(path) is \(expected.jsonText)") }
            return true
        case .isIn(let options):
            if let value, options.contains(where: { Self.equal(value, $0) }) { return true }
            return fail("\(path) is \(shown(value)), not one of \(JSONValue.array(options).jsonText)")
        case .greaterThan(let bound), .greaterThanOrEqual(let bound), .lessThan(let bound), .lessThanOrEqual(let bound):
            guard let number = value?.doubleValue else { return fail("\(path) is \(shown(value)), not a number") }
            let (holds, symbol): (Bool, String) =
                switch fieldTest {
                case .greaterThan: (number > bound, ">")
                case .greaterThanOrEqual: (number >= bound, "≥")
                case .lessThan: (number < bound, "<")
                default: (number <= bound, "≤")
                }
            if holds { return true }
            return fail("\(path) is \(shown(value)), not \(symbol) \(bound == bound.rounded() && abs(bound) < 1e15 ? String(Int64(bound)) : String(bound))")
        case .contains(let needle):
            switch (value, needle) {
            // Bytes, not grapheme clusters: "e\u{301}" contains "e", and every string contains "".
            case (.string(let text)?, .string(let part)) where part.isEmpty || text.utf8.firstRange(of: part.utf8) != nil: return true
            case (.array(let items)?, _) where items.contains(where: { Self.equal($0, needle) }): return true
            default: return fail("\(path) does not contain \(needle.jsonText)")
            }
        case .matches(let regex):
            guard case .string(let text)? = value else { return fail("\(path) is \(shown(value)), not text to match") }
            do {
                guard let match = try regex.firstCapturedMatch(in: text) else { return fail("\(path) does not match /\(regex.pattern)/") }
                state.captures.add(match.namedCaptures)
                return true
            } catch {
                state.regexStopped(regex, on: path, error)
                return fail("\(path): /\(regex.pattern)/ stopped at a resource limit (counted as no match)")
            }
        }
    }

    private mutating func testIntent(_ name: String, _ minimum: Int?, _ fieldPath: FieldPath, _ event: Event, _ state: inout State) -> Bool {
        let field = fieldPath.text
        let scores: [IntentScore]
        if let cached = intentCache.first(where: { $0.field == field })?.scores {
            scores = cached  // an earlier rule's intent condition on the same field read it
        } else {
            guard case .string(let text)? = Self.value(at: fieldPath, in: event) else {
                return state.fail("\(field) is not text, so intent '\(name)' cannot be recognized")
            }
            scores = intentScores(for: field, text: text)
        }
        guard let score = scores.first(where: { $0.name == name }), score.isRecognized else {
            return state.fail(
                "intent '\(name)' is not recognized in \(field) (\(scores.first(where: { $0.name == name }).map { $0.rejection ?? "score \($0.value)" } ?? "nothing fired"))")
        }
        if let minimum, score.score < minimum {
            return state.fail("intent '\(name)' scored \(score.value), below min_score \(Double(minimum) / 1000)")
        }
        if state.intent == nil { state.intent = IntentMatch(name: name, score: score.value, slots: score.slots) }
        return true
    }

    /// Recognizes the intents in `text`, the value of `field`, and keeps the scores for the
    /// event's other intent conditions on that field (`testIntent` looks there first).
    private mutating func intentScores(for field: String, text: String) -> [IntentScore] {
        let scores = StageTimes.shared.measure(.intents) {
            // Conditions read names, scores and slots only: the evidence need not quote the text.
            mode == .explain ? recognizer.explain(text).scores : recognizer.recognize(text, quotingEvidence: false).intents
        }
        intentCache.append((field, scores))
        return scores
    }

    /// The value at a dotted path of an event: `id`, `type`, `priority`, `source`, `time`, or `payload.…`.
    public static func value(at path: String, in event: Event) -> JSONValue? {
        value(at: FieldPath(path), in: event)
    }

    /// The value at a pre-split path (what compiled conditions use: no string splitting per event).
    public static func value(at path: FieldPath, in event: Event) -> JSONValue? {
        value(at: path.segments[...], in: event)
    }

    /// The value at path segments; also what templates use for the event's own fields.
    public static func value(at path: ArraySlice<String>, in event: Event) -> JSONValue? {
        var segments = path
        guard let root = segments.popFirst() else { return nil }
        // `payload` first: a switch over strings compares them in order, and most paths are payload paths.
        switch root {
        case "payload":
            return event.payloadValue(at: segments)
        case "id": return .string(event.id)
        case "type": return .string(event.type)
        case "priority": return .int(Int64(event.priority))
        case "source": return event.source.map(JSONValue.string)
        case "time": return .string(event.time.description)
        default: return nil
        }
    }

    /// JSON equality where 5 equals 5.0.
    /// JSON equality as docs/reference/rules.md defines it: numbers by value, strings by their exact
    /// characters (Unicode scalars, not canonical equivalence: "é" is not "e\u{301}"), arrays and
    /// objects member by member with the same rules.
    public static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if let left = lhs.doubleValue, let right = rhs.doubleValue { return left == right }
        switch (lhs, rhs) {
        case (.string(let left), .string(let right)):
            return left.utf8.elementsEqual(right.utf8)
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { equal($0, $1) }
        case (.object(let left), .object(let right)):
            return left.count == right.count && left.allSatisfy { key, value in right[key].map { equal(value, $0) } ?? false }
        default:
            return lhs == rhs
        }
    }
}
