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
