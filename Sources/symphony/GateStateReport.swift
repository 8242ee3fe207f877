import SymphonyDiagnostics
import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyPostgres
import SymphonyRules
import SymphonyStore

/// `symphony history --state RULE --rules PATH`: what a rule's gates hold now, rebuilt from the
/// history the way `symphony run` rebuilds it at start, or (`--store`) as a cluster keeps it.
enum GateStateReport {
    /// Why there are no rows for a rule.
    struct NoState: Error {
        let message: String
    }

    /// The rows for `rule` as the SQLite history at `reader` rebuilds them, or why there are none.
    static func rows(rule name: String, ruleSet: RuleSet, reader: HistoryReader) throws -> Result<[[String: JSONValue]], NoState> {
        try rows(rule: name, ruleSet: ruleSet) { engine in
            guard let horizon = engine.gateHorizon else { return }
            let (events, _) = try reader.handledEvents(within: horizon) { type in
                ruleSet.rules(for: type).contains(where: \.isStateful) || engine.gates.observes(type)
            }
            engine.restoreGates(from: events)
        }
    }

    /// The rows for `rule` as a cluster keeps them in `reader`'s database, or why there are none.
    static func rows(rule name: String, ruleSet: RuleSet, reader: PostgresHistoryReader) throws -> Result<[[String: JSONValue]], NoState> {
        try rows(rule: name, ruleSet: ruleSet) { engine in
            guard let rule = ruleSet.rule(named: name) else { return }
            let stored = try reader.gateState(of: name) { slot in RuleGates.settings(of: rule, kind: slot.kind) }
            // Oldest first, so that the newest is the most recently seen.
            engine.gates.preload(stored.reversed().map(\.slot), records: Dictionary(stored.map { ($0.slot, $0.record) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    /// The rows for `rule` once `restore` has put its state into an engine's gates, or why there are none.
    private static func rows(rule name: String, ruleSet: RuleSet, restore: (RuleEngine) throws -> Void) throws -> Result<[[String: JSONValue]], NoState> {
        guard let rule = ruleSet.rule(named: name) else {
            return .failure(NoState(message: "the rule set has no rule '\(name)'\(NameSuggestion.hint(for: name, in: ruleSet.rules.map(\.name)))"))
        }
        guard rule.isStateful else { return .failure(NoState(message: "rule '\(name)' has no count:, throttle: or after: gate, so it keeps no state")) }
        let engine = RuleEngine(ruleSet: ruleSet, effects: NoActionEffects())
        try restore(engine)
        return .success(
            engine.gates.state(of: name).map { state in
                var row: [String: JSONValue] = [
                    "gate": .string(state.gate), "key": .string(state.key), "events": .int(Int64(state.events)), "detail": .string(state.detail),
                ]
                if let first = state.first { row["first"] = .string(first.description) }
                if let last = state.last { row["last"] = .string(last.description) }
                return row
            })
    }
}
