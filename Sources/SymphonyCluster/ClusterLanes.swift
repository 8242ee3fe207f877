import SymphonyEngine
import SymphonyEvents
import SymphonyPostgres
import SymphonyRules

/// Which lane of the shared queue an event goes to: the lane of its first gate or delay key
/// (`PostgresEventQueue.lane(ofKey:)`), or none when no rule with memory, keyed delay or cancel
/// would use a key of it. Workers claim one lane at a time, so batches of different lanes rarely
/// share a key, and a key's events reach its gates in queue order.
struct ClusterLanes: Sendable {
    private let engine: RuleEngine?

    /// Lanes for `ruleSet`'s events, found with an engine of their own (nil when no rule uses keys).
    init(ruleSet: RuleSet) {
        engine = ruleSet.usesStateKeys ? RuleEngine(ruleSet: ruleSet, effects: NoActionEffects()) : nil
    }

    /// Lanes found with a worker's `engine`; nil when its rule set uses no keys.
    init(engine: RuleEngine?) {
        self.engine = engine
    }

    /// True when the rule set's events have lanes.
    var isUsed: Bool { engine != nil }

    /// The lane of `event`, if it has one.
    func lane(of event: Event) -> Int? {
        guard let engine else { return nil }
        let keys = engine.stateKeys(of: event)
        return (keys.slots.first?.key ?? keys.delayKeys.first).map(PostgresEventQueue.lane(ofKey:))
    }
}
