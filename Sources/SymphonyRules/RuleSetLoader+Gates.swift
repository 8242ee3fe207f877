import SymphonyDiagnostics
import SymphonyEvents

/// Reading a rule's `count:` and `throttle:` gates.
extension RuleSetLoader {
    static let countKeys = ["key", "at_least", "within", "keep_ids", "max_keys"]
    static let throttleKeys = ["key", "per", "max_keys"]
    /// What `{{ window.… }}` and `{{ throttle.… }}` may name.
    static let afterKeys = ["on", "key", "within", "max_keys"]
    static let gateFields = ["window": ["key", "count", "first", "last", "ids"], "throttle": ["key", "suppressed"], "after": ["key", "id", "time"]]

    /// The `count:` gate written in `node`, or nil after reporting what is wrong.
    static func countWindow(from node: YAMLNode, scope: RuleScope, into diagnostics: inout Diagnostics) -> CountWindow? {
        guard let fields = node.fields(of: "'count'", allowed: countKeys, required: ["key", "at_least", "within"], into: &diagnostics) else {
            return nil
        }
        let errorsBefore = diagnostics.errors.count
        let key = fields["key"].flatMap { template($0, what: "'key'", scope: scope, into: &diagnostics) }
        let atLeast = fields["at_least"].flatMap { wholeNumber($0, what: "'at_least'", in: 1...1_000_000, into: &diagnostics) }
        let within = fields["within"].flatMap { positiveDuration($0, what: "'within'", into: &diagnostics) }
        let keepIDs = fields["keep_ids"].map { $0.bool("'keep_ids'", into: &diagnostics) ?? false } ?? false
        let maxKeys = fields["max_keys"].map { wholeNumber($0, what: "'max_keys'", in: 1...100_000_000, into: &diagnostics) }
            ?? CountWindow.defaultMaxKeys
        guard diagnostics.errors.count == errorsBefore, let key, let atLeast, let within, let maxKeys else { return nil }
        if keepIDs && atLeast > 1_000 {
            diagnostics.warning(
                at: fields["keep_ids"]?.location ?? node.location,
                "'keep_ids' with 'at_least: \(atLeast)' keeps up to \(atLeast) event ids per key in memory")
        }
        return CountWindow(key: key, atLeast: atLeast, within: within, keepIDs: keepIDs, maxKeys: maxKeys)
    }

    /// The `throttle:` gate written in `node`, or nil after reporting what is wrong.
    static func throttle(from node: YAMLNode, scope: RuleScope, into diagnostics: inout Diagnostics) -> Throttle? {
        guard let fields = node.fields(of: "'throttle'", allowed: throttleKeys, required: ["key", "per"], into: &diagnostics) else {
            return nil
        }
        let errorsBefore = diagnostics.errors.count
        let key = fields["key"].flatMap { template($0, what: "'key'", scope: scope, into: &diagnostics) }
        let per = fields["per"].flatMap { positiveDuration($0, what: "'per'", into: &diagnostics) }
        let maxKeys = fields["max_keys"].map { wholeNumber($0, what: "'max_keys'", in: 1...100_000_000, into: &diagnostics) }
            ?? CountWindow.defaultMaxKeys
        guard diagnostics.errors.count == errorsBefore, let key, let per, let maxKeys else { return nil }
        return Throttle(key: key, per: per, maxKeys: maxKeys)
    }

    /// The `after:` gate written in `node`, or nil after reporting what is wrong. Its key is
    /// rendered on both events, so it may name only event fields (no captures, intents or gates).
    static func sequenceGate(from node: YAMLNode, into diagnostics: inout Diagnostics) -> SequenceGate? {
        guard let fields = node.fields(of: "'after'", allowed: afterKeys, required: ["on", "key", "within"], into: &diagnostics) else {
            return nil
        }
        let errorsBefore = diagnostics.errors.count
        let patterns = fields["on"].map { typePatterns($0, into: &diagnostics) } ?? []
        let key = fields["key"].flatMap { eventKeyTemplate($0, what: "'after'", into: &diagnostics) }
        let within = fields["within"].flatMap { positiveDuration($0, what: "'within'", into: &diagnostics) }
        let maxKeys = fields["max_keys"].map { wholeNumber($0, what: "'max_keys'", in: 1...100_000_000, into: &diagnostics) }
            ?? CountWindow.defaultMaxKeys
        guard diagnostics.errors.count == errorsBefore, let key, let within, let maxKeys else { return nil }
        return SequenceGate(on: patterns, key: key, within: within, maxKeys: maxKeys)
    }

    /// The problem with a `window.…`, `throttle.…` or `after.…` placeholder, or nil when the rule defines it.
    static func gateProblem(_ path: [String], scope: RuleScope) -> String? {
        let text = path.joined(separator: ".")
        let root = path[0]
        let gate = root == "window" ? "count" : root
        guard scope.gates.contains(root) else {
            if scope.declaredGates.contains(root) {
                return "template references '\(text)', which exists only after the '\(gate)' gate: in the gates after it and in the actions"
            }
            return "template references '\(text)', but the rule has no '\(gate)' gate"
        }
        if root == "window", path.count == 2, path[1] == "ids", !scope.windowKeepsIDs {
            return "template references 'window.ids', but the 'count' gate does not keep them: add 'keep_ids: true'"
        }
        let known = gateFields[root] ?? []
        guard path.count == 2, known.contains(path[1]) else {
            return "template references '\(text)', which is nothing: use \(known.map { "\(root).\($0)" }.joined(separator: ", "))"
        }
        return nil
    }

    /// Reports each `cancel:` whose `rule:` names no rule of the set (`names`: every rule name written).
    static func checkCancelledRules(_ rules: [Rule], names: [String], into diagnostics: inout Diagnostics) {
        for rule in rules {
            for case .cancel(_, let named?, let location) in rule.actions where !names.contains(named) {
                diagnostics.error(at: location, "'cancel' names rule '\(named)', which is not in the rule set\(NameSuggestion.hint(for: named, in: names))")
            }
        }
    }

    static func wholeNumber(_ node: YAMLNode, what: String, in range: ClosedRange<Int>, into diagnostics: inout Diagnostics) -> Int? {
        guard node.kindDescription == "a number", let text = node.scalarText, let value = Int(text), range.contains(value) else {
            let found = node.kindDescription == "a number" ? (node.scalarText ?? "") : node.kindDescription
            diagnostics.error(at: node.location, "\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(found)")
            return nil
        }
        return value
    }

    static func positiveDuration(_ node: YAMLNode, what: String, into diagnostics: inout Diagnostics) -> Duration? {
        guard let text = node.string(what, into: &diagnostics) else { return nil }
        guard let duration = DurationParser.parse(text) else {
            diagnostics.error(at: node.contentLocation, DurationParser.problem(text))
            return nil
        }
        guard duration > .zero else {
            diagnostics.error(at: node.contentLocation, "\(what) must be longer than zero")
            return nil
        }
        return duration
    }
}
