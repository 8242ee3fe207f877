import SymphonyEvents
import SymphonyRules

/// The `unless:` clauses of a rule set's keyed delays, indexed by the types that trigger them:
/// which (rule, key template) pairs an event of a type may cancel.
final class UnlessWatchers: Sendable {
    /// One `unless:` clause: events of its types cancel `rule`'s pending delay of the key `key` renders.
    struct Watch: Sendable {
        let rule: String
        let key: Template
        let on: String
    }

    private let watches: TypeIndexedValues<Watch>

    init(ruleSet: RuleSet) {
        var watches: [(value: Watch, patterns: [TypePattern])] = []
        for rule in ruleSet.rules {
            for action in rule.actions {
                guard case .delay(_, _, _, let keyed?, _) = action, let unless = keyed.unless else { continue }
                for pattern in unless.on { watches.append((Watch(rule: rule.name, key: unless.key, on: pattern.text), [pattern])) }
            }
        }
        self.watches = TypeIndexedValues(watches)
    }

    /// The clauses an event of `type` triggers.
    func watches(for type: String) -> [Watch] { watches.values(for: type) }
}
