/// An event that could not be handled, and why: the record a dead-letter sink receives.
public struct DeadLetter: Sendable {
    /// Why the event ended here.
    public enum Reason: Sendable {
        /// A handler threw; the event is whole and the pattern names the subscription.
        case handlerFailed(pattern: String, error: any Error)
        /// The queued envelope did not open (altered, or the key is wrong); only its header is known.
        case undeliverable(error: any Error)
        /// An event a handler published could not be sealed for the queue (the key's nonces are
        /// used up); the whole event is kept.
        case notQueued(error: any Error)
    }

    /// The event's id (known even when the envelope did not open).
    public let eventID: String
    /// The event's type (known even when the envelope did not open).
    public let eventType: String
    /// The whole event when it was readable.
    public let event: Event?
    /// Why the event ended here.
    public let reason: Reason

    /// A dead letter.
    public init(eventID: String, eventType: String, event: Event?, reason: Reason) {
        self.eventID = eventID
        self.eventType = eventType
        self.event = event
        self.reason = reason
    }

    /// A one-line summary free of payload data, for logs.
    public var summary: String {
        switch reason {
        case .handlerFailed(let pattern, let error):
            "event \(eventID) (\(eventType)): handler for '\(pattern)' failed: \(error)"
        case .undeliverable(let error):
            "event \(eventID) (\(eventType)): could not be opened: \(error)"
        case .notQueued(let error):
            "event \(eventID) (\(eventType)): could not be queued: \(error)"
        }
    }
}

/// Where events that could not be handled go, so that none is lost. Called from worker threads.
public protocol DeadLetterSink: Sendable {
    /// Takes one dead letter; must not throw and should return quickly.
    func receive(_ letter: DeadLetter)
}
