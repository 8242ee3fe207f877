import SymphonyRules

/// A run that takes events while it goes on: what `symphony serve` hands its HTTP submissions to
/// and shows in its probes and metrics. A `RunPipeline` on one machine; a cluster node when the
/// queue is shared in PostgreSQL.
public protocol ServedRun: AnyObject, Sendable {
    /// Takes one submission (an HTTP request's lines) as `principal`, from any thread; returns
    /// once the accepted events are durable (or says why they are not). Blocks: never call it on
    /// an event loop.
    func submit(_ items: [SourceItem], principal: String) -> SubmitResult

    /// True while the run takes submissions.
    var isTakingInput: Bool { get }

    /// The rules in force now (the intents endpoint ranks with their intents).
    var ruleSet: RuleSet { get }

    /// The run's counts so far, for metrics.
    var progress: RunSummary { get }

    /// Events waiting in the queue, by priority.
    var queueDepthByPriority: [Int: Int] { get }

    /// Replaces the rule set while the run goes on; throws when this run cannot take it.
    func reload(_ ruleSet: RuleSet) throws
}

extension RunPipeline: ServedRun {
    /// The rules in force now.
    public var ruleSet: RuleSet { engine.ruleSet }

    /// Events waiting in the in-process queue, by priority.
    public var queueDepthByPriority: [Int: Int] { system.dispatcher.queueDepthByPriority }
}
