import SymphonyJSON

/// How often, and for how long, a side effect that failed in a way worth retrying is tried again
/// (a rule's `retry:`): exponential backoff with full jitter, bounded by attempts and by total time.
public struct RetryPolicy: Sendable, Hashable {
    /// Tries in all, the first included (1: never retried).
    public var attempts: Int
    /// The wait before the first retry; each further wait doubles, up to `maximumBackoff`.
    public var backoff: Duration
    /// The longest wait between two tries.
    public var maximumBackoff: Duration
    /// No try starts later than this after the action was queued.
    public var within: Duration

    /// The defaults: 5 tries, waits of about 1 s, 2 s, 4 s, 8 s (at most 1 min each), all within 10 min.
    public static let `default` = RetryPolicy(attempts: 5, backoff: .seconds(1), maximumBackoff: .seconds(60), within: .seconds(600))

    /// A policy.
    public init(attempts: Int, backoff: Duration, maximumBackoff: Duration, within: Duration) {
        self.attempts = attempts
        self.backoff = backoff
        self.maximumBackoff = maximumBackoff
        self.within = within
    }

    /// The wait before try number `attempt + 1` after `attempt` failed tries: a uniformly random
    /// fraction (`jitter`, 0…1) between half and all of `backoff × 2^(attempt−1)`, capped — so
    /// many actions failing together do not retry together.
    public func delay(afterAttempt attempt: Int, jitter: Double) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(backoff * (1 << exponent), maximumBackoff)
        return base * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }

    var json: JSONValue {
        [
            "attempts": .int(Int64(attempts)), "backoff_ms": .int(backoff.milliseconds), "max_backoff_ms": .int(maximumBackoff.milliseconds),
            "within_ms": .int(within.milliseconds),
        ]
    }

    init?(json: JSONValue) {
        guard let attempts = json["attempts"]?.int64Value, let backoff = json["backoff_ms"]?.int64Value,
            let maximum = json["max_backoff_ms"]?.int64Value, let within = json["within_ms"]?.int64Value
        else { return nil }
        self.init(attempts: Int(attempts), backoff: .milliseconds(backoff), maximumBackoff: .milliseconds(maximum), within: .milliseconds(within))
    }
}
