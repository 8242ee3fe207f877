import SymphonyEvents
import SymphonyRecords

// The flat rows the history writer inserts, built from events and records on the recording thread.

/// A row of the `events` table. An immutable class: a row is handed from the recording thread to
/// the writer and kept in a batch, and each of those copies is then one reference, not one per
/// string and buffer.
final class EventInsert: Sendable {
    let id: String
    let type: String
    let priority: Int64
    let source: String?
    let receivedNS: Int64
    let timeNS: Int64
    let parentID: String?
    let rule: String?
    let hop: Int64
    /// The sealed event body, or nil when it could not be sealed (logged; plaintext is never stored).
    let payload: [UInt8]?
    /// The row's canonical bytes for the history chain, encoded on the recording thread.
    let encoded: [UInt8]

    init(
        id: String, type: String, priority: Int64, source: String?, receivedNS: Int64, timeNS: Int64, parentID: String?, rule: String?, hop: Int64,
        payload: [UInt8]?
    ) {
        self.id = id
        self.type = type
        self.priority = priority
        self.source = source
        self.receivedNS = receivedNS
        self.timeNS = timeNS
        self.parentID = parentID
        self.rule = rule
        self.hop = hop
        self.payload = payload
        var encoding = ChainRowEncoding(reservingCapacity: 96 + (payload?.count ?? 0))
        encoding.event(
            id: id, type: type, priority: priority, source: source, receivedNS: receivedNS, timeNS: timeNS, parentID: parentID, rule: rule, hop: hop,
            payload: payload)
        encoded = encoding.bytes
    }

    convenience init(_ event: Event, received: Timestamp, payload: [UInt8]?) {
        self.init(
            id: event.id, type: event.type, priority: Int64(event.priority), source: event.source, receivedNS: received.nanosecondsSinceEpoch,
            timeNS: event.time.nanosecondsSinceEpoch, parentID: event.causation?.parentID, rule: event.causation?.rule,
            hop: Int64(event.causation?.hop ?? 0), payload: payload)
    }
}

/// A row of the `executions` table, and the `events` row of its derived event. A class, as `EventInsert` is.
final class ExecutionInsert: Sendable {
    let eventID: String
    let rule: String
    let kind: Int64
    let outcome: Int64
    let error: String?
    let message: String?
    let startedNS: Int64
    let durationMicroseconds: Int64
    let derived: EventInsert?
    var derivedEventID: String? { derived?.id }
    /// `executions.key` (schema 7).
    let key: String?
    /// The row's canonical bytes for the history chain, encoded on the recording thread.
    let encoded: [UInt8]

    init(_ record: ExecutionRecord, sealedDerived: [UInt8]?) {
        eventID = record.eventID
        rule = record.rule
        kind = record.kind.rawValue
        outcome = record.outcome.rawValue
        error = record.error
        message = record.message
        startedNS = record.started.nanosecondsSinceEpoch
        durationMicroseconds = (record.finished.nanosecondsSinceEpoch - record.started.nanosecondsSinceEpoch) / 1_000
        let derived = record.derivedEvent.map { EventInsert($0, received: record.finished, payload: sealedDerived) }
        self.derived = derived
        key = record.key
        var encoding = ChainRowEncoding(reservingCapacity: 128)
        encoding.execution(
            eventID: record.eventID, rule: record.rule, kind: record.kind.rawValue, outcome: record.outcome.rawValue, error: record.error,
            message: record.message, startedNS: startedNS, durationMicroseconds: durationMicroseconds, derivedEventID: derived?.id, key: record.key)
        encoded = encoding.bytes
    }
}

/// A row of the `dead_letters` table: an input line that was not a valid event, its content sealed.
struct DeadLetterInsert: Sendable {
    let source: String
    let line: Int64?
    let reason: String
    let receivedNS: Int64
    let content: [UInt8]?
}

/// A row of the `scheduled_changes` table: a scheduled entry's state from this change on.
struct ScheduledChange: Sendable {
    /// A scheduled entry's state; stored as its code.
    enum State: Int64, Sendable {
        case pending = 0
        case done = 1
        case cancelled = 2

        /// The `scheduled.state` text.
        var name: String {
            switch self {
            case .pending: "pending"
            case .done: "done"
            case .cancelled: "cancelled"
            }
        }

        init?(name: String) {
            switch name {
            case "pending": self = .pending
            case "done": self = .done
            case "cancelled": self = .cancelled
            default: return nil
            }
        }
    }

    let entryID: String
    let state: State
    let dueNS: Int64
    let firedNS: Int64?
    let late: Bool
}

/// A row of the `scheduled` table (a pending entry).
struct ScheduledInsert: Sendable {
    let id: String
    let dueNS: Int64
    let intervalNS: Int64?
    let eventID: String
    let eventType: String
    let priority: Int64
    let originRule: String?
    let envelope: [UInt8]
    /// The key of a keyed delay (`scheduled.key`, schema 7).
    let key: String?

    init(
        id: String, dueNS: Int64, intervalNS: Int64?, eventID: String, eventType: String, priority: Int64, originRule: String?, envelope: [UInt8],
        key: String?
    ) {
        self.id = id
        self.dueNS = dueNS
        self.intervalNS = intervalNS
        self.eventID = eventID
        self.eventType = eventType
        self.priority = priority
        self.originRule = originRule
        self.envelope = envelope
        self.key = key
    }

    init(_ entry: ScheduledEntry, envelope: [UInt8]) {
        id = entry.id.rawValue
        dueNS = entry.due.nanosecondsSinceEpoch
        intervalNS = entry.interval?.nanoseconds
        eventID = entry.event.id
        eventType = entry.event.type
        priority = Int64(entry.event.priority)
        originRule = entry.event.causation?.rule
        self.envelope = envelope
        key = entry.key
    }
}

/// A row of the `outbox` table (its request already sealed).
struct OutboxInsert: Sendable {
    let key: String
    let eventID: String
    let eventType: String
    let rule: String
    let kind: Int64
    let gateKey: String?
    let request: [UInt8]
    let queuedNS: Int64
    let nextNS: Int64
}
