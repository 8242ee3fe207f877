import SymphonyDiagnostics
import SymphonyEvents

extension StaticChecks {
    /// The literal types the rule set's `publish` and `delay` actions produce, each with a rule
    /// that produces it (once per type and rule).
    static func publishedTypes(in ruleSet: RuleSet) -> [(type: String, rule: String)] {
        var seen = Set<String>()
        var types: [(type: String, rule: String)] = []
        for rule in ruleSet.rules {
            for action in rule.actions {
                let template: EventTemplate
                switch action {
                case .publish(let published, _): template = published
                case .delay(let delayed, _, _, _, _): template = delayed
                default: continue
                }
                guard template.type.isLiteral, seen.insert(template.type.source + "\u{0}" + rule.name).inserted else { continue }
                types.append((template.type.source, rule.name))
            }
        }
        return types
    }

    /// True when some `publish` or `delay` of the rule set can produce a type `pattern` matches.
    public static func isPublished(_ pattern: TypePattern, in ruleSet: RuleSet) -> Bool {
        ruleSet.rules.contains { rule in
            rule.actions.contains { action in
                let template: EventTemplate
                switch action {
                case .publish(let published, _): template = published
                case .delay(let delayed, _, _, _, _): template = delayed
                default: return false
                }
                return template.type.isLiteral ? pattern.matches(template.type.source) : TemplateTypeOverlap.canRender(template.type, toMatch: pattern)
            }
        }
    }

    /// An exact `on` type that no rule publishes, that no other rule is on, and that is a typo away
    /// from a type another rule publishes (one edit for types shorter than 12 characters, two for
    /// longer ones): the chain it was written for never reaches it. A type several rules are on is
    /// taken to come from outside; one the rule itself publishes is a translation (`ticket.open` →
    /// `ticket.opened`), not a typo.
    static func findMisspeltTypes(in ruleSet: RuleSet, into diagnostics: inout Diagnostics) {
        let published = publishedTypes(in: ruleSet)
        guard !published.isEmpty else { return }
        var rulesOn: [String: Int] = [:]
        for rule in ruleSet.rules {
            for type in Set(rule.on.filter(\.isExact).map(\.text)) { rulesOn[type, default: 0] += 1 }
        }
        let literals = Set(published.map(\.type))
        for rule in ruleSet.rules {
            for pattern in rule.on where pattern.isExact && rulesOn[pattern.text] == 1 && !literals.contains(pattern.text) {
                let others = published.filter { $0.rule != rule.name }.map(\.type)
                guard let closest = NameSuggestion.closest(to: pattern.text, in: others, maxDistance: pattern.text.count < 12 ? 1 : 2),
                    let publisher = published.first(where: { $0.type == closest }),
                    !isPublished(pattern, in: ruleSet)
                else { continue }
                diagnostics.warning(
                    at: rule.location,
                    "rule '\(rule.name)' is on '\(pattern.text)', which no rule publishes; did you mean '\(closest)' (published by rule '\(publisher.rule)')?")
            }
        }
    }
}
