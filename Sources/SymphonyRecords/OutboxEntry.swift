import SymphonyEvents
import SymphonyJSON

/// A side effect a rule queued: recorded (with the executions of the event that caused it)
/// before it runs, and kept until it succeeds or gives up — the outbox. After a crash, entries
/// still pending run again: delivery is at least once, and `key` lets receivers drop repeats.
public struct OutboxEntry: Sendable, Hashable {
    /// The idempotency key: `rule/event id/action index`, the same on every try and after a
    /// restart. Programs get it as `SYMPHONY_ACTION_KEY`, webhooks as the `Idempotency-Key` header.
    public let key: String
    /// The event whose rule queued it.
    public let eventID: String
    /// That event's type.
    public let eventType: String
    /// The rule.
    public let rule: String
    /// What to do.
    public let request: ActionRequest
    /// How to retry it.
    public let retry: RetryPolicy
    /// The gate key the rule fired under, if any (kept with each try's execution record).
    public var gateKey: String?
    /// When it was queued.
    public let queued: Timestamp
    /// Tries made so far.
    public var attempts: Int
    /// When the next try may start.
    public var nextAttempt: Timestamp

    /// A new entry, not yet tried.
    public init(
        eventID: String, eventType: String, rule: String, actionIndex: Int, request: ActionRequest, retry: RetryPolicy, gateKey: String?,
        queued: Timestamp
    ) {
        self.init(
            key: "\(rule)/\(eventID)/\(actionIndex)", eventID: eventID, eventType: eventType, rule: rule, request: request, retry: retry,
            gateKey: gateKey, queued: queued, attempts: 0, nextAttempt: queued)
    }

    /// An entry as stored.
    public init(
        key: String, eventID: String, eventType: String, rule: String, request: ActionRequest, retry: RetryPolicy, gateKey: String?,
        queued: Timestamp, attempts: Int, nextAttempt: Timestamp
    ) {
        self.key = key
        self.eventID = eventID
        self.eventType = eventType
        self.rule = rule
        self.request = request
        self.retry = retry
        self.gateKey = gateKey
        self.queued = queued
        self.attempts = attempts
        self.nextAttempt = nextAttempt
    }

    /// The kind of action.
    public var kind: ActionKind { request.kind }

    /// What is sealed into the outbox row: the request and its retry policy.
    public var storedJSON: JSONValue { ["request": request.json, "retry": retry.json] }

    /// The request and retry policy of a stored row; nil when the JSON is not one.
    public static func parseStored(_ json: JSONValue) -> (request: ActionRequest, retry: RetryPolicy)? {
        guard let request = json["request"].flatMap(ActionRequest.init(json:)), let retry = json["retry"].flatMap(RetryPolicy.init(json:))
        else { return nil }
        return (request, retry)
    }
}

/// Where an outbox entry stands after a try.
public enum OutboxState: Sendable, Hashable {
    /// Done: it succeeded, or failed in a way not worth retrying.
    case done
    /// To be tried again at this time.
    case retry(at: Timestamp)
    /// Gave up (attempts or time used up): a dead letter, until `symphony retry` queues it again.
    case dead(reason: String)

    /// The stored code: 0 pending, 1 done, 2 dead.
    public var code: Int64 {
        switch self {
        case .retry: 0
        case .done: 1
        case .dead: 2
        }
    }
}
