import SymphonyJSON
/// Something that happened: a dotted type, a JSON payload, a priority and where it came from.
///
/// A value type whose fields live in one shared, immutable box: an event is copied many times
/// on its way through the queue, the rules and the history (into arrays, outcomes, closures),
/// and each copy is then one reference count instead of one per string and buffer. Setting a
/// field makes a new box (events are rarely changed once made).
public struct Event: Sendable, Hashable {
    /// The fields; shared by copies until one of them changes a field.
    @usableFromInline var storage: EventStorage

    /// A unique id; generated when not given. Without control characters (`validate(id:source:)`).
    public var id: String {
        get { storage.id }
        set { storage = storage.changing { $0.id = newValue } }
    }
    /// A dotted name such as `ticket.created`.
    public var type: String {
        get { storage.type }
        set { storage = storage.changing { $0.type = newValue } }
    }
    /// 0 (served first) … 9 (served last); 5 by default.
    public var priority: Int {
        get { storage.priority }
        set { storage = storage.changing { $0.priority = newValue } }
    }
    /// The event's data.
    public var payload: JSONValue {
        get {
            switch storage.payload {
            case .tree(let value): value
            case .encoded(let encoded): encoded.value
            }
        }
        set { storage = storage.changing { $0.payload = .tree(newValue) } }
    }
    /// The principal that produced the event, if known. Without control characters (`validate(id:source:)`).
    public var source: String? {
        get { storage.source }
        set { storage = storage.changing { $0.source = newValue } }
    }
    /// When the event happened (by default, when it was made).
    public var time: Timestamp {
        get { storage.time }
        set { storage = storage.changing { $0.time = newValue } }
    }
    /// The event and rule that caused this one, for derived events.
    public var causation: Causation? {
        get { storage.causation }
        set { storage = storage.changing { $0.causation = newValue } }
    }

    /// The lowest and highest priorities; lower is served first.
    public static let priorities: ClosedRange<Int> = 0...9
    /// The priority of events that do not say.
    public static let defaultPriority = 5

    /// Throws `invalidPriority` for a priority outside 0…9 and `invalidType` for a type that is
    /// not a dotted name (every way into the queue checks it, with `validate(id:source:)`).
    public static func validate(type: String, priority: Int) throws {
        guard priorities.contains(priority) else {
            throw EventsError(.invalidPriority, "Priority \(priority) is outside 0…9.")
        }
        try EventType.validate(type)
    }

    /// Throws `invalidID` or `invalidSource` when the id or the source holds a control character
    /// (U+0000–U+001F or U+007F). Both are names — history keys, principals, table cells — where a
    /// NUL could cut one (C strings) and a line break forge a row. Every way into the queue checks it.
    public static func validate(id: String?, source: String?) throws {
        if let id, containsControlCharacter(id) {
            throw EventsError(.invalidID, "'id' must not contain control characters (U+0000–U+001F, U+007F).")
        }
        if let source, containsControlCharacter(source) {
            throw EventsError(.invalidSource, "'source' must not contain control characters (U+0000–U+001F, U+007F).")
        }
    }

    /// `validate(type:priority:)` and `validate(id:source:)` for `event`: what the dispatcher and the scheduler check.
    public static func validate(_ event: Event) throws {
        try validate(type: event.type, priority: event.priority)
        try validate(id: event.id, source: event.source)
    }

    /// True when `text` holds U+0000–U+001F or U+007F. One pass over the UTF-8 bytes: those code
    /// points are single bytes there, and every byte of a longer scalar is 0x80 or above.
    private static func containsControlCharacter(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { ByteScan.containsControlByte($0) }
    }

    /// Makes an event; `id` and `time` default to a fresh id and the current time.
    public init(
        type: String, payload: JSONValue = [:], priority: Int = Event.defaultPriority, id: String? = nil,
        source: String? = nil, time: Timestamp? = nil, causation: Causation? = nil
    ) {
        storage = EventStorage(
            id: id ?? EventIDGenerator.shared.next(), type: type, priority: priority, payload: .tree(payload), source: source, time: time ?? .now(),
            causation: causation)
    }
}

extension Event {
    /// An event whose payload stays in its encoded form until read (an opened envelope's body, a
    /// parsed input line's payload): `payload` builds the tree when asked, `payloadValue(at:)`
    /// reads in place, and sealing copies the bytes.
    /// (Inlinable: compiled apart from its callers, it copied the whole event once more.)
    @inlinable
    public init(
        type: String, encodedPayload: EncodedPayload, priority: Int, id: String, source: String?, time: Timestamp, causation: Causation?
    ) {
        // Not through the tree initializer: this runs for every event opened from the queue, and
        // replacing the payload afterwards would change a field of a shared box.
        storage = EventStorage(id: id, type: type, priority: priority, payload: .encoded(encodedPayload), source: source, time: time, causation: causation)
    }

    /// The payload's encoded bytes when the event keeps them, else nil.
    public var encodedPayload: EncodedPayload? {
        if case .encoded(let encoded) = storage.payload { return encoded }
        return nil
    }

    /// The payload value at `segments` (`JSONValue.child` step by step), or nil when a step is
    /// missing. Reads an encoded payload in place, building only the value returned.
    public func payloadValue(at segments: ArraySlice<String>) -> JSONValue? {
        switch storage.payload {
        case .encoded(let encoded):
            return encoded.value(at: segments)
        case .tree(let value):
            var current = value
            for segment in segments {
                guard let next = current.child(segment) else { return nil }
                current = next
            }
            return current
        }
    }

    public static func == (lhs: Event, rhs: Event) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.id == rhs.id && lhs.type == rhs.type && lhs.priority == rhs.priority && lhs.source == rhs.source && lhs.time == rhs.time
            && lhs.causation == rhs.causation && lhs.payload == rhs.payload
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(type)
        hasher.combine(priority)
        hasher.combine(source)
        hasher.combine(time)
        hasher.combine(causation)
        hasher.combine(payload)
    }
}

/// Where an event's payload is kept.
@usableFromInline
enum StoredPayload: Sendable {
    case tree(JSONValue)
    case encoded(EncodedPayload)
}

/// An event's fields, as `EventStorage.changing` hands them to a change.
struct EventFields {
    var id: String
    var type: String
    var priority: Int
    /// The payload as it was made: a tree, or the bytes an opened envelope held (read in place).
    var payload: StoredPayload
    var source: String?
    var time: Timestamp
    var causation: Causation?
}

/// The box of an `Event`'s fields: immutable (`let`s, so reading a field takes no exclusivity
/// check), so events on any threads can share one. The fields are stored one by one, so that
/// making a box moves them in: storing a built `EventFields` copies every string (Swift 6.3 does
/// not move it).
@usableFromInline
final class EventStorage: Sendable {
    @usableFromInline let id: String
    @usableFromInline let type: String
    @usableFromInline let priority: Int
    @usableFromInline let payload: StoredPayload
    @usableFromInline let source: String?
    @usableFromInline let time: Timestamp
    @usableFromInline let causation: Causation?

    @inlinable
    init(id: String, type: String, priority: Int, payload: StoredPayload, source: String?, time: Timestamp, causation: Causation?) {
        self.id = id
        self.type = type
        self.priority = priority
        self.payload = payload
        self.source = source
        self.time = time
        self.causation = causation
    }

    /// A new box with the fields `change` makes.
    func changing(_ change: (inout EventFields) -> Void) -> EventStorage {
        var fields = EventFields(id: id, type: type, priority: priority, payload: payload, source: source, time: time, causation: causation)
        change(&fields)
        return EventStorage(
            id: fields.id, type: fields.type, priority: fields.priority, payload: fields.payload, source: fields.source, time: fields.time,
            causation: fields.causation)
    }
}

/// The link from a derived event back to what caused it.
public struct Causation: Sendable, Hashable {
    /// The id of the event that caused this one.
    public var parentID: String
    /// The rule whose action made this event.
    public var rule: String
    /// How many derivations separate this event from an input event (an input event's child has hop 1).
    public var hop: Int

    /// A causation link.
    public init(parentID: String, rule: String, hop: Int) {
        self.parentID = parentID
        self.rule = rule
        self.hop = hop
    }
}
