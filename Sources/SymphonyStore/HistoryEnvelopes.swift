import SymphonyCrypto
import SymphonyEvents

/// The envelope contexts of stored payloads (docs/reference/history-database.md).
public enum HistoryEnvelopes {
    /// An event's stored envelope is the queue's: `SealedEvent.context(id:type:priority:)`.
    /// Databases written before that change used this context (domain `symphony.history.event.v1`,
    /// field: the event id); migration 5 re-seals such payloads, and readers no longer accept it.
    public static func legacyEvent(id: String) -> EnvelopeContext {
        EnvelopeContext(domain: "symphony.history.event.v1", fields: [id])
    }

    /// The context scheduled entries' events were stored under before they shared the event's own
    /// envelope (`SealedEvent.context(id:type:priority:)`): domain `symphony.history.scheduled.v1`,
    /// fields: entry id, event id. Pending entries stored under it still open; new ones never use it.
    public static func scheduled(id: ScheduleID, eventID: String) -> EnvelopeContext {
        EnvelopeContext(domain: "symphony.history.scheduled.v1", fields: [id.rawValue, eventID])
    }

    /// A rejected input line: domain `symphony.history.dead-letter.v1`, fields: source, line number, received time.
    public static func deadLetter(source: String, line: Int?, received: Timestamp) -> EnvelopeContext {
        EnvelopeContext(
            domain: "symphony.history.dead-letter.v1", fields: [source, line.map(String.init) ?? "", String(received.nanosecondsSinceEpoch)])
    }

    /// A queued side effect's request: domain `symphony.history.outbox.v1`, field: the action key.
    public static func outbox(actionKey: String) -> EnvelopeContext {
        EnvelopeContext(domain: "symphony.history.outbox.v1", fields: [actionKey])
    }
}
