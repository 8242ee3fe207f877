/// Per rule, action kind and outcome: how many executions, and the p50/p95 of their durations;
/// with the number of distinct events the rule acted on.
public struct StatsRow: Sendable, Hashable {
    public let rule: String
    /// Distinct events the rule acted on (among the executions counted): how often it fired.
    public let fired: Int
    /// The action kind (`publish`, `emit`, …).
    public let action: String
    public let outcome: String
    public let count: Int
    /// Nearest-rank percentiles of `duration_us`.
    public let p50Microseconds: Int64
    public let p95Microseconds: Int64

    public init(rule: String, fired: Int, action: String, outcome: String, count: Int, p50Microseconds: Int64, p95Microseconds: Int64) {
        self.rule = rule
        self.fired = fired
        self.action = action
        self.outcome = outcome
        self.count = count
        self.p50Microseconds = p50Microseconds
        self.p95Microseconds = p95Microseconds
    }
}
