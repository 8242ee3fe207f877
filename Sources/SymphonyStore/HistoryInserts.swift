import SymphonyEvents

// The flat rows the history writer inserts, built from events and records on the recording thread.

/// A row of the `events` table.
struct EventInsert: Sendable {
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

    init(_ event: Event, received: Timestamp, payload: [UInt8]?) {
        id = event.id
        type = event.type
        priority = Int64(event.priority)
        source = event.source
        receivedNS = received.nanosecondsSinceEpoch
        timeNS = event.time.nanosecondsSinceEpoch
        parentID = event.causation?.parentID
        rule = event.causation?.rule
        hop = Int64(event.causation?.hop ?? 0)
        self.payload = payload
    }
}

/// A row of the `executions` table, and the `events` row of its derived event.
struct ExecutionInsert: Sendable {
    let eventID: String
    let rule: String
    let action: String
    let status: String
    let error: String?
    let startedNS: Int64
    let finishedNS: Int64
    let derived: EventInsert?

    init(_ record: ExecutionRecord, sealedDerived: [UInt8]?) {
        eventID = record.eventID
        rule = record.rule
        action = record.action
        status = record.status
        error = record.error
        startedNS = record.started.nanosecondsSinceEpoch
        finishedNS = record.finished.nanosecondsSinceEpoch
        derived = record.derivedEvent.map { EventInsert($0, received: record.finished, payload: sealedDerived) }
    }
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

    init(_ entry: ScheduledEntry, envelope: [UInt8]) {
        id = entry.id.rawValue
        dueNS = entry.due.nanosecondsSinceEpoch
        intervalNS = entry.interval?.nanoseconds
        eventID = entry.event.id
        eventType = entry.event.type
        priority = Int64(entry.event.priority)
        originRule = entry.event.causation?.rule
        self.envelope = envelope
    }
}
