import SymphonyJSON
import SymphonyEvents
import SymphonyRecords

/// What one action did for one event: the record history stores and `--output ndjson` prints.
public struct ActionOutcome: Sendable, Hashable {
    /// How an action ended: `failed` when it could not run (bad rendered type, hop limit, queue closed, …; `error` says why).
    public typealias Status = ExecutionOutcome

    /// The triggering event's id.
    public let eventID: String
    /// The triggering event's type.
    public let eventType: String
    /// The rule that ran the action.
    public let rule: String
    /// What kind of action it was.
    public let action: ActionKind
    /// How it ended.
    public let status: Status
    /// Why it failed, when it did.
    public let error: String?
    /// When the action started.
    public let started: Timestamp
    /// When it finished.
    public let finished: Timestamp
    /// The event it made (publish, delay, emit).
    public let derivedEvent: Event?
    /// When a delayed event is due.
    public let due: Timestamp?
    /// The rendered audit message.
    public let message: String?
    /// The principal the action ran as.
    public var principal: String = "rules"
    /// The derived event as the queue sealed it (publish with encryption on), reused by history.
    public var sealedDerivedEvent: SealedEvent? = nil
    /// The key the action ran under (see `ExecutionRecord.key`).
    public var key: String? = nil
    /// A side effect (`exec`, `http`, `file`) queued to run once recorded: the outbox entry. Its
    /// outcome is not final — each try is recorded when it ends.
    public var queued: OutboxEntry? = nil

    /// The outcome as one compact JSON object (keys sorted).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "event": .string(eventID), "type": .string(eventType), "rule": .string(rule), "action": .string(action.name),
            "status": .string(status.name), "started": .string(started.description),
            "duration_us": .int(started.duration(to: finished).nanoseconds / 1_000),
        ]
        if let error { object["error"] = .string(error) }
        if let derivedEvent { object["derived"] = EventJSON.object(derivedEvent) }
        if let due { object["due"] = .string(due.description) }
        if let message { object["message"] = .string(message) }
        if let key { object["key"] = .string(key) }
        if let queued { object["queued"] = .string(queued.key) }
        return .object(object)
    }
}

extension ActionOutcome {
    /// Appends `json.jsonText` to `writer`: the same keys in their sorted order, written directly
    /// (a derived event's encoded payload from its bytes) — what `--format ndjson` prints per outcome.
    public func writeJSON(to writer: inout JSONWriter) {
        writer.byte(UInt8(ascii: "{"))
        writer.key("action")
        writer.string(action.name)
        if let derivedEvent {
            writer.nextKey("derived")
            EventJSON.write(derivedEvent, to: &writer)
        }
        if let due { writer.member("due", due.description) }
        writer.member("duration_us", int: started.duration(to: finished).nanoseconds / 1_000)
        if let error { writer.member("error", error) }
        writer.member("event", eventID)
        if let key { writer.member("key", key) }
        if let message { writer.member("message", message) }
        if let queued { writer.member("queued", queued.key) }
        writer.member("rule", rule)
        writer.member("started", started.description)
        writer.member("status", status.name)
        writer.member("type", eventType)
        writer.byte(UInt8(ascii: "}"))
    }

    /// The outcome of one try of a queued side effect, as output shows it.
    public init(attempt record: ExecutionRecord, principal: String = "rules") {
        self.init(
            eventID: record.eventID, eventType: record.eventType, rule: record.rule, action: record.kind, status: record.outcome, error: record.error,
            started: record.started, finished: record.finished, derivedEvent: nil, due: nil, message: record.message, principal: principal)
        key = record.key
    }

    /// The audit record of a denied action (`access.denied`: the rule's principal, the derived
    /// type or the event id, the reason — no payload); nil for any other outcome. Actions that ran
    /// need none: their execution records are chained like every history row.
    public var denialRecord: AuditRecord? {
        guard status == .denied else { return nil }
        var details = "rule \(rule), action \(action.name), event \(eventID) (\(eventType))"
        if let error { details += ": \(error)" }
        return AuditRecord(
            time: finished, principal: principal, operation: .accessDenied, target: derivedEvent?.type ?? eventID, outcome: "denied",
            details: details)
    }

    /// This outcome, failed for `reason` (a delay whose scheduled entry could not be made durable).
    public func failed(_ reason: String) -> ActionOutcome {
        var failed = ActionOutcome(
            eventID: eventID, eventType: eventType, rule: rule, action: action, status: .failed, error: reason, started: started,
            finished: finished, derivedEvent: derivedEvent, due: due, message: message, principal: principal)
        failed.sealedDerivedEvent = sealedDerivedEvent
        return failed
    }

    /// The outcome as history stores it.
    public var executionRecord: ExecutionRecord {
        var record = ExecutionRecord(
            eventID: eventID, eventType: eventType, rule: rule, kind: action, outcome: status, error: error, message: message, started: started,
            finished: finished, derivedEvent: derivedEvent, sealedDerivedEvent: sealedDerivedEvent)
        record.key = key
        return record
    }
}
