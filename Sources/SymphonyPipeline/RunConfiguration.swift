import SymphonyAccess
import SymphonyDelivery
import SymphonyEngine
import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// What a run needs: the rules, who runs them, the runtime's sizes, and where history goes.
public struct RunConfiguration: Sendable {
    /// The compiled rule set.
    public var ruleSet: RuleSet
    /// Checks every input event as its source and every derived one as its rule's principal.
    public var access: AccessGuard
    /// The principal of the run (input events without a `source` are published as it).
    public var principal: String
    /// Worker threads (default: the number of cores).
    public var workerCount: Int = EventDispatcher.defaultWorkerCount
    /// Events the queue holds before input waits.
    public var queueCapacity: Int = 8_192
    /// The longest chain of derived events.
    public var hopLimit: Int = RuleEngine.defaultHopLimit
    /// Derived events one input event may cause in all.
    public var derivedEventBudget: Int = RuleEngine.defaultDerivedEventBudget
    /// How queued events are sealed.
    public var encryption: EventSystemConfiguration.Encryption = .ephemeralKey
    /// Where the run is recorded (and its delayed events kept); nil keeps nothing.
    public var history: (any HistoryRecorder)?
    /// The clock delays run on.
    public var clock: any SchedulerClock = SystemClock()
    /// Replay the input on its own time (`symphony run --replay`): the input's event times are the
    /// clock (`clock` is not used), each input event is handled only once everything before it
    /// was, and delays come due as the input's time passes them — so a week of logs replayed in a
    /// second gives what running live for the week gave. Slower: input events are handled one after another.
    public var replay = false
    /// Whether `exec`, `http` and `file` actions run (`--no-actions`: rendered, checked and
    /// recorded as skipped, never run).
    public var runsSideEffects = true
    /// What runs side effects: programs, HTTP requests and file appends, for real.
    public var sideEffectRunner: any SideEffectRunner = StandardSideEffectRunner()
    /// The clock side effects' backoffs and rate limits run on (nil: the run's clock).
    public var sideEffectClock: (any SchedulerClock)?
    /// Side effects held in memory at most; with a history, more wait in its outbox.
    public var sideEffectMemoryLimit = 10_000
    /// A number in 0…1 for each retry's jitter.
    public var jitter: @Sendable () -> Double = { Double.random(in: 0...1) }
    /// Where the run reports action outcomes, durations and late delays (nowhere by default).
    public var metrics: RunMetrics = .discarded

    /// A run of `ruleSet` as `principal`, allowed everything unless `access` says otherwise.
    public init(ruleSet: RuleSet, access: AccessGuard = AccessGuard(policy: .allowAll), principal: String) {
        self.ruleSet = ruleSet
        self.access = access
        self.principal = principal
    }
}
