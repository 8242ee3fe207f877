import SymphonyAccess
import SymphonyCrypto
import SymphonyDelivery
import SymphonyEngine
import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// What a node of a PostgreSQL-backed cluster needs: the database, its name, the rules, the key
/// that seals events, and its sizes.
public struct ClusterConfiguration: Sendable {
    /// The PostgreSQL URL.
    public var url: String
    /// This node's name: claims, handled events and executions are attributed to it.
    public var node: String
    /// The rules.
    public var ruleSet: RuleSet
    /// Seals events before they enter the shared queue, opens them when claimed.
    public var sealer: EnvelopeSealer
    /// Access control for input events and the events actions publish.
    public var access: AccessGuard
    /// Who publishes the input events, and who rules run as by default.
    public var principal: String
    /// Worker threads, each with its own database connection.
    public var workers = 2
    /// The most events one worker claims, handles and commits in one transaction.
    public var claimBatch = 64
    /// How long a claim is held; a claim in a transaction that never commits is free again at once
    /// (its lock goes with its connection), so the lease only matters for claims left committed.
    public var lease: Duration = .seconds(60)
    /// The clock delays come due on.
    public var clock: any SchedulerClock = SystemClock()
    /// The longest chain of derived events.
    public var hopLimit = RuleEngine.defaultHopLimit
    /// The most events one input event may derive; on a cluster it is counted per node (each
    /// node's engine counts what it derived itself).
    public var derivedEventBudget = RuleEngine.defaultDerivedEventBudget
    /// How often an idle worker or the scheduler looks again when no notification woke it.
    public var idlePoll: Duration = .milliseconds(200)
    /// How often the scheduler keeps each gate's shared state within its `max_keys` rows.
    public var gateSweepInterval: Duration = .seconds(60)
    /// False to run no side effects (`--no-actions`): each is rendered, checked and recorded as skipped.
    public var runsSideEffects = true
    /// Runs each try of a side effect.
    public var sideEffectRunner: any SideEffectRunner = StandardSideEffectRunner()

    /// The audit record of a node starting with `ruleSet`, read from the files `paths`.
    public static func rulesLoaded(_ paths: [String], ruleSet: RuleSet, node: String, principal: String) -> AuditRecord {
        AuditRecord(
            principal: principal, operation: .rulesLoad, target: paths.joined(separator: " "), outcome: "ok",
            details: "node \(node) started with \(ruleSet.rules.count) rules, \(ruleSet.recognizer.definitions.count) intents")
    }

    /// A configuration with the default sizes.
    public init(url: String, node: String, ruleSet: RuleSet, sealer: EnvelopeSealer, access: AccessGuard, principal: String) {
        self.url = url
        self.node = node
        self.ruleSet = ruleSet
        self.sealer = sealer
        self.access = access
        self.principal = principal
    }

}
