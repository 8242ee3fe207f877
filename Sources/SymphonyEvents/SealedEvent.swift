import SymphonyCrypto

/// An event as the queue holds it when encryption is on: routing fields in the clear, the rest in an envelope.
///
/// The id, type and priority are the envelope's associated data, so changing any of them makes
/// the envelope fail to open.
public struct SealedEvent: Sendable, Hashable {
    /// The event's id.
    public var id: String
    /// The event's type.
    public var type: String
    /// The event's priority (the queue orders on it).
    public var priority: Int
    /// A version-1 envelope holding the encoded event body (`EventBodyCodec`).
    public var envelope: [UInt8]

    /// The envelope context an event is sealed under: domain `symphony.event.v1`, fields id, type and decimal priority.
    public static func context(id: String, type: String, priority: Int) -> EnvelopeContext {
        EnvelopeContext(
            domain: "symphony.event.v1",
            fields: [id, type, Event.priorities.contains(priority) ? priorityText[priority] : String(priority)])
    }

    /// Seals `event` with `sealer`.
    public init(sealing event: Event, with sealer: EnvelopeSealer) throws {
        id = event.id
        type = event.type
        priority = event.priority
        envelope = try sealer.seal(
            EventBodyCodec.encodeForSealing(event), context: Self.context(id: event.id, type: event.type, priority: event.priority))
    }

    /// A sealed event from its parts, as read back from storage.
    public init(id: String, type: String, priority: Int, envelope: [UInt8]) {
        self.id = id
        self.type = type
        self.priority = priority
        self.envelope = envelope
    }

    /// Opens the envelope and rebuilds the event; throws when it was altered or the key is wrong.
    public func open(with sealer: EnvelopeSealer) throws -> Event {
        let body = try sealer.open(envelope, context: Self.context(id: id, type: type, priority: priority))
        return try EventBodyCodec.decode(body, in: body.indices, id: id, type: type, priority: priority, trustingPayload: sealer.opensOnlyItsOwnEnvelopes)
    }
}

/// Decimal priorities, made once instead of per event.
private let priorityText = Event.priorities.map(String.init)

/// What the event queue holds: plain events when encryption is off, sealed events or batches when it is on.
public enum QueuedEvent: Sendable {
    case plain(Event)
    case sealed(SealedEvent)
    /// Events of one priority published together (`EventDispatcher.publish(contentsOf:)`).
    case batch(SealedBatch)
    /// An event a one-shot scheduled entry published: once it was handled, the entry is completed.
    indirect case fired(QueuedEvent, FiredEntry)
    /// A batch some of whose events scheduled entries published: the entry of each event by
    /// position (nil for the others), each completed once its event was handled.
    case firedBatch(SealedBatch, [FiredEntry?])

    /// The priority, readable without opening anything.
    public var priority: Int {
        switch self {
        case .plain(let event): event.priority
        case .sealed(let sealed): sealed.priority
        case .batch(let batch), .firedBatch(let batch, _): batch.priority
        case .fired(let event, _): event.priority
        }
    }

    /// How many events it holds: the batch's count for a batch, else 1.
    public var eventCount: Int {
        switch self {
        case .batch(let batch), .firedBatch(let batch, _): batch.count
        default: 1
        }
    }
}
