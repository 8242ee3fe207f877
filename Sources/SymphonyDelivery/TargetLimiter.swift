import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// Per-target limits (`targets:` in rule files): calls in flight at once, and calls per second as
/// a token bucket (burst of one second's worth) on the dispatcher's clock. Not thread-safe: the
/// dispatcher calls it under its lock.
struct TargetLimiter {
    private struct Bucket {
        var tokens: Double
        var refilled: Timestamp
    }

    private let settings: SideEffectSettings
    private var inFlight: [String: Int] = [:]
    private var buckets: [String: Bucket] = [:]

    init(settings: SideEffectSettings) {
        self.settings = settings
    }

    /// Whether a call to `target` may start at `now`; when a rate limit says no, also when it may.
    mutating func mayStart(_ target: String, kind: ActionKind, now: Timestamp) -> (allowed: Bool, retryAt: Timestamp?) {
        guard let limit = settings.limit(for: target, kind: kind) else { return (true, nil) }
        if let concurrency = limit.concurrency, inFlight[target, default: 0] >= concurrency { return (false, nil) }
        guard let rate = limit.perSecond else { return (true, nil) }
        var bucket = buckets[target] ?? Bucket(tokens: max(rate, 1), refilled: now)
        let elapsed = Double(bucket.refilled.duration(to: now).nanoseconds) / 1e9
        bucket.tokens = min(max(rate, 1), bucket.tokens + max(elapsed, 0) * rate)
        bucket.refilled = now
        buckets[target] = bucket
        // A token is due at the instant the rate says (rounding must not push it a nanosecond later).
        guard bucket.tokens >= 1 - 1e-9 else {
            let wait = (1 - bucket.tokens) / rate
            return (false, now.advanced(by: .nanoseconds(Int64((wait * 1e9).rounded(.up)))))
        }
        return (true, nil)
    }

    /// A call to `target` starts (after `mayStart` allowed it).
    mutating func start(_ target: String, kind: ActionKind) {
        guard let limit = settings.limit(for: target, kind: kind) else { return }
        if limit.concurrency != nil { inFlight[target, default: 0] += 1 }
        if limit.perSecond != nil, var bucket = buckets[target] {
            bucket.tokens = max(bucket.tokens - 1, 0)
            buckets[target] = bucket
        }
    }

    /// A call to `target` ended.
    mutating func finish(_ target: String, kind: ActionKind) {
        guard settings.limit(for: target, kind: kind)?.concurrency != nil else { return }
        inFlight[target, default: 1] -= 1
    }
}
