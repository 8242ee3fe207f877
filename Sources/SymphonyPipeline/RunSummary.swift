import SymphonyDelivery
import SymphonyEngine
import SymphonyEvents

/// What a run did, for its summary line and exit status.
public struct RunSummary: Sendable {
    /// Input lines read (events taken, rejected and denied ones).
    public var read = 0
    /// Input events an earlier run recorded but was stopped (killed) before handling, handled first by this run.
    public var recovered = 0
    /// Of those, lines whose invalid UTF-8 was replaced by U+FFFD.
    public var replacedInvalidUTF8 = 0
    /// Raw lines the rule set's line parser read only in part (kept, with what could be read).
    public var partlyParsed = 0
    /// Input lines that were not valid events (or that the queue refused).
    public var rejected = 0
    /// Input events and actions refused by access control.
    public var denied = 0
    /// Events delivered to the rules (input, derived and fired ones).
    public var processed = 0
    /// Rules whose conditions matched.
    public var rulesFired = 0
    /// Actions that ran, by kind name.
    public var actions: [String: Int] = [:]
    /// Actions that failed, and events whose handling failed.
    public var errors = 0
    /// Regex conditions that stopped at their match limit.
    public var conditionProblems = 0
    /// Recorded events passed through the rules' gates at start to rebuild their state.
    public var restoredGateEvents = 0
    /// Matching events that `count:` and `throttle:` gates held back, and keys they evicted.
    public var gates = GateStatistics()
    /// What became of side effects (`exec`, `http`, `file`): successes, retries, dead letters, waits, left pending.
    public var sideEffects = DeliveryStatistics()
    /// Side effects an earlier run queued and did not finish, run again by this one.
    public var resumedActions = 0
    /// Delayed events still pending when the run ended.
    public var pending = 0
    /// Delayed events in the history made by rules not in this rule set, by rule: left pending for
    /// the rule set that made them.
    public var pendingOfOtherRuleSets: [String: Int] = [:]
    /// Part of the input could not be read (a file that did not open, or a read that failed).
    public var inputUnreadable = false
    /// A stop (SIGINT, SIGTERM) ended the run before its input did.
    public var stopped = false
    /// Why it was stopped (`SIGINT`, `SIGTERM`, `history could not be written`, …), when it was.
    public var stopReason: String?
    /// Why history could not be written, if it could not.
    public var historyFailure: String?
    /// Rows (events, executions, audit records, …) history could not write: they are lost.
    public var historyLostRows = 0
    /// How long the run took.
    public var duration: Duration = .zero

    /// A summary of nothing done yet.
    public init() {}
}
