import SymphonyDiagnostics
import SymphonyEvents

/// Reading keyed delays (`key:`, `if_pending:`, `unless:` in a `delay`) and `cancel:` actions.
extension RuleSetLoader {
    static let delayKeyKeys = ["key", "if_pending", "unless"]
    static let unlessKeys = ["on", "key"]
    static let cancelKeys = ["key", "rule"]

    /// The `key:` of a delay (with `if_pending:` and `unless:`), nil when it has none or after
    /// reporting what is wrong (`fields["key"]` tells which).
    static func delayKey(_ fields: [String: YAMLNode], scope: RuleScope, into diagnostics: inout Diagnostics) -> DelayKey? {
        guard let keyNode = fields["key"] else {
            for name in ["if_pending", "unless"] {
                if let node = fields[name] { diagnostics.error(at: node.location, "'\(name)' applies to a keyed delay: add 'key:'") }
            }
            return nil
        }
        let errorsBefore = diagnostics.errors.count
        let key = template(keyNode, what: "'key'", scope: scope, into: &diagnostics)
        var whenPending = Scheduler.WhenPending.replace
        if let node = fields["if_pending"] {
            let names = Scheduler.WhenPending.allCases.map(\.rawValue)
            if let text = node.string("'if_pending'", into: &diagnostics) {
                if let policy = Scheduler.WhenPending(rawValue: text) {
                    whenPending = policy
                } else {
                    diagnostics.error(
                        at: node.contentLocation,
                        "'if_pending' is \(names.joined(separator: " or ")), not '\(text)'\(NameSuggestion.hint(for: text, in: names))")
                }
            }
        }
        var unless: DelayKey.Unless?
        if let node = fields["unless"], let key {
            unless = self.unless(node, delayKey: key, keyNode: keyNode, into: &diagnostics)
        }
        guard diagnostics.errors.count == errorsBefore, let key else { return nil }
        return DelayKey(key: key, whenPending: whenPending, unless: unless)
    }

    private static func unless(_ node: YAMLNode, delayKey: Template, keyNode: YAMLNode, into diagnostics: inout Diagnostics) -> DelayKey.Unless? {
        guard let fields = node.fields(of: "'unless'", allowed: unlessKeys, required: ["on"], into: &diagnostics) else { return nil }
        let patterns = fields["on"].map { typePatterns($0, into: &diagnostics) } ?? []
        // Rendered on the cancelling event: only its own fields exist there.
        if let own = fields["key"] {
            guard let key = eventKeyTemplate(own, what: "'unless'", into: &diagnostics) else { return nil }
            return patterns.isEmpty ? nil : DelayKey.Unless(on: patterns, key: key)
        }
        for path in delayKey.paths where !eventFieldRoots.contains(path[0]) || placeholderProblem(path, scope: RuleScope()) != nil {
            diagnostics.error(
                at: keyNode.contentLocation,
                "'unless' renders the delay's key on the cancelling event, where '\(path.joined(separator: "."))' does not exist: give 'unless' its own 'key'")
            return nil
        }
        return patterns.isEmpty ? nil : DelayKey.Unless(on: patterns, key: delayKey)
    }

    /// The roots a key rendered on another event may use: that event's own fields.
    static let eventFieldRoots: Set<String> = ["id", "type", "priority", "source", "time", "payload"]

    /// A key template rendered on an event other than the rule's (`after:`, `unless:`): only
    /// event fields, reported with what `gate` says.
    static func eventKeyTemplate(_ node: YAMLNode, what gate: String, into diagnostics: inout Diagnostics) -> Template? {
        // Roots first, so a capture or intent gets this explanation rather than "the rule captures nothing".
        if let text = node.scalarText, case .success(let parsed) = Template.parse(text) {
            for case .placeholder(let path, let column, _) in parsed.parts where !eventFieldRoots.contains(path[0]) {
                diagnostics.error(
                    at: node.contentLocation.advanced(byColumns: column),
                    "\(gate) renders its 'key' on another event too, where only event fields exist (id, type, priority, source, time, "
                        + "payload…), not '\(path.joined(separator: "."))'")
                return nil
            }
        }
        return template(node, what: "'key'", scope: RuleScope(), into: &diagnostics)
    }

    /// `cancel: {key: TEMPLATE, rule: NAME}` (or `cancel: TEMPLATE`).
    static func cancelAction(_ node: YAMLNode, scope: RuleScope, location: SourceLocation, into diagnostics: inout Diagnostics) -> Action? {
        let keyNode: YAMLNode
        var rule: String?
        if node.entries != nil {
            guard let fields = node.fields(of: "'cancel'", allowed: cancelKeys, required: ["key"], into: &diagnostics), let key = fields["key"] else {
                return nil
            }
            keyNode = key
            if let ruleNode = fields["rule"] {
                guard let name = ruleNode.string("'rule'", into: &diagnostics) else { return nil }
                rule = name
            }
        } else {
            keyNode = node
        }
        guard let key = template(keyNode, what: "the key to cancel", scope: scope, into: &diagnostics) else { return nil }
        return .cancel(key: key, rule: rule, location: location)
    }
}
