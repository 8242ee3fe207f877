import SymphonyEvents
import SymphonyRecords

/// Runs one try of a queued side effect and says how it went. `ActionDispatcher` calls it on a
/// pool thread; it may block for as long as the request's own timeout.
public protocol SideEffectRunner: Sendable {
    /// One try of `entry` (its `attempts` tries were made before).
    func attempt(_ entry: OutboxEntry) -> AttemptResult
}

/// How one try of a side effect went.
public struct AttemptResult: Sendable, Hashable {
    /// What to do next.
    public enum Verdict: Sendable, Hashable {
        /// It worked.
        case ok
        /// It failed in a way another try may fix (HTTP 429/5xx, a connection error, a timeout,
        /// an exit status not counted as success); `after` is the wait the receiver asked for (Retry-After).
        case retry(after: Duration?)
        /// It failed in a way another try would not fix (HTTP 4xx, a program that does not exist).
        case fail
        /// It was not tried, and is no longer this dispatcher's to run: another process took it
        /// over, or it is gone. The dispatcher forgets it and records nothing.
        case relinquished
    }

    /// The verdict.
    public var verdict: Verdict
    /// What happened, for history: `exit 0`, `HTTP 201`, output kept, … (no secrets).
    public var message: String
    /// Why it failed, when it did.
    public var error: String?

    /// A result.
    public init(verdict: Verdict, message: String, error: String? = nil) {
        self.verdict = verdict
        self.message = message
        self.error = error
    }
}
