import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// The state one event's handling may touch, found before it is handled: a cluster locks all of
/// a batch's keys in one go, in one order, so that two batches never wait for each other in a circle.
public struct StateKeys: Sendable, Hashable {
    /// Gate slots: of the rules with memory whose condition holds, and of the `after:` gates that remember the event's type.
    public var slots: [GateSlot] = []
    /// Keys of keyed delays and cancels: of the actions of rules whose condition holds, and of the `unless:` clauses the event's type triggers.
    public var delayKeys: [String] = []

    /// None.
    public init() {}
}

extension RuleEngine {
    /// The gate slots and delay keys handling `event` may use, found without changing anything.
    /// It may name more than the handling uses (a rule that `stop`s earlier, a gate that holds),
    /// never less, except keys rendered from a gate's fields (`{{ window.key }}`, `{{ after.id }}`…),
    /// which are only known once the gate fires: they are left out, and locked when reached.
    public func stateKeys(of event: Event) -> StateKeys {
        var keys = StateKeys()
        var evaluator: RuleEvaluator?
        for rule in ruleSet.rules(for: event.type) where rule.isStateful || rule.usesDelayKeys {
            if evaluator == nil { evaluator = RuleEvaluator(recognizer: ruleSet.recognizer) }
            let match = evaluator!.evaluate(rule, on: event)
            guard match.matched else { continue }
            let context = TemplateContext(event: event, rule: rule.name, captures: match.captures, intent: match.intent)
            if let after = rule.after { keys.slots.append(GateSlot(rule: rule.name, kind: .after, key: after.key.render(context))) }
            if let count = rule.count { keys.slots.append(GateSlot(rule: rule.name, kind: .count, key: count.key.render(context))) }
            if let throttle = rule.throttle, !throttle.key.usesGateFields {
                keys.slots.append(GateSlot(rule: rule.name, kind: .throttle, key: throttle.key.render(context)))
            }
            for action in rule.actions {
                switch action {
                case .delay(_, _, _, let keyed?, _) where !keyed.key.usesGateFields: keys.delayKeys.append(keyed.key.render(context))
                case .cancel(let key, _, _) where !key.usesGateFields: keys.delayKeys.append(key.render(context))
                default: continue
                }
            }
        }
        keys.slots += gates.observedSlots(of: event)
        keys.delayKeys += unlessKeys(of: event)
        return keys
    }
}

extension Template {
    /// True when the template reads a gate's fields (`window`, `throttle`, `after`), known only once the gate fires.
    var usesGateFields: Bool {
        paths.contains { ["window", "throttle", "after"].contains($0.first ?? "") }
    }
}

extension RuleSet {
    /// True when some event's handling may use a gate slot or a delay key (`RuleEngine.stateKeys`).
    public var usesStateKeys: Bool { rules.contains { $0.isStateful || $0.usesDelayKeys } }
}

extension Rule {
    /// True when an action schedules a keyed delay or cancels one.
    var usesDelayKeys: Bool {
        actions.contains { action in
            switch action {
            case .delay(_, _, _, .some, _), .cancel: true
            default: false
            }
        }
    }
}
