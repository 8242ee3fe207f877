import SymphonyDiagnostics
import SymphonyEngine
import SymphonyJSON
import SymphonyRules

/// What `validate --summary` prints: per rule, the events it saw and matched, and the input
/// events no rule matched (what `fail2ban-regex` prints for a filter).
struct DryRunTally {
    private let ruleSet: RuleSet
    /// Per rule: events of its types it was evaluated on, and those it matched.
    private var seen: [String: Int] = [:]
    private var matched: [String: Int] = [:]
    /// Input events traced, and those on which at least one rule matched (anywhere in their chain).
    private(set) var inputEvents = 0
    private(set) var matchedEvents = 0
    private var derivedEvents = 0
    /// Events traced per type, input and derived.
    private var types: [String: Int] = [:]

    init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
    }

    /// Counts one traced input event (or a keyed delay come due) and everything it caused.
    mutating func add(_ steps: [DryRun.Step]) {
        guard !steps.isEmpty else { return }
        if steps.contains(where: { ($0.event.causation?.hop ?? 0) == 0 }) { inputEvents += 1 }
        var any = false
        for step in steps {
            if (step.event.causation?.hop ?? 0) > 0 { derivedEvents += 1 }
            types[step.event.type, default: 0] += 1
            for report in step.rules {
                seen[report.rule, default: 0] += 1
                if report.matched {
                    matched[report.rule, default: 0] += 1
                    any = true
                }
            }
        }
        if any { matchedEvents += 1 }
    }

    /// A warning for each rule that no traced event reached although no rule publishes a type it is
    /// on: its `on` names a type the sample does not have (a typo, often), with the closest type
    /// the sample does have.
    var unreachedRuleWarnings: [String] {
        guard inputEvents > 0 else { return [] }
        return ruleSet.rules.compactMap { rule in
            // Not reached although events of its types came (a rule before it stopped them): not this warning's case.
            guard seen[rule.name] == nil, !types.keys.contains(where: { type in rule.on.contains { $0.matches(type) } }),
                !rule.on.contains(where: { StaticChecks.isPublished($0, in: ruleSet) })
            else { return nil }
            let patterns = rule.on.map(\.text)
            var message = "warning: rule '\(rule.name)' saw no event: none of the \(inputEvents) input events or the events they caused has a type its 'on' matches (\(patterns.joined(separator: ", "))), and no rule publishes one"
            let suggestions = patterns.compactMap { NameSuggestion.closest(to: $0, in: types.keys) }
            if let suggestion = suggestions.first {
                message += "; did you mean '\(suggestion)' (\(types[suggestion] ?? 0) event\(types[suggestion] == 1 ? "" : "s"))?"
            } else {
                let common = types.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map(\.key)
                message += "; the events have types " + common.joined(separator: ", ") + (types.count > common.count ? ", …" : "")
            }
            return message
        }
    }

    /// The summary as text, rules in rule-set order.
    var lines: [String] {
        let width = max(4, ruleSet.rules.map(\.name.count).max() ?? 0)
        func pad(_ text: String) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = ["\(pad("rule"))  matched      seen"]
        for rule in ruleSet.rules {
            let hits = matched[rule.name] ?? 0
            let total = seen[rule.name] ?? 0
            lines.append(pad(rule.name) + "  " + String(hits).leftPadded(to: 7) + "  " + String(total).leftPadded(to: 8))
        }
        let never = ruleSet.rules.filter { (matched[$0.name] ?? 0) == 0 }.map(\.name)
        lines.append("")
        lines.append(
            "input events: \(inputEvents), matched by a rule: \(matchedEvents), by none: \(inputEvents - matchedEvents); derived events: \(derivedEvents)")
        if !never.isEmpty { lines.append("rules that never matched: " + never.joined(separator: ", ")) }
        return lines
    }

    /// The summary as one JSON object.
    var json: JSONValue {
        .object([
            "input_events": .int(Int64(inputEvents)), "matched_events": .int(Int64(matchedEvents)),
            "unmatched_events": .int(Int64(inputEvents - matchedEvents)), "derived_events": .int(Int64(derivedEvents)),
            "rules": .array(
                ruleSet.rules.map { rule in
                    ["rule": .string(rule.name), "matched": .int(Int64(matched[rule.name] ?? 0)), "seen": .int(Int64(seen[rule.name] ?? 0))]
                }),
        ])
    }
}

extension String {
    /// The text with spaces before it up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
