import SymphonyJSON
import SymphonyEvents

/// One line of JSON Lines input, as users write it: `type` required; `payload`, `priority`, `id`, `source`, `time` optional.
struct InputEvent {
    let type: String
    let payload: JSONValue?
    /// The payload object in the event body's binary encoding, when the parser wrote it so (then `payload` is nil).
    let encodedPayload: [UInt8]?
    let priority: Int?
    let id: String?
    let source: String?
    let time: String?

    /// The members a line may set; others are ignored.
    static let fieldNames: Set<String> = ["type", "payload", "priority", "id", "source", "time"]

    /// The fields of a parsed line; throws a readable reason naming the field (never its content).
    init(json: JSONParser.Root) throws {
        guard case .object(let fields, let encodedPayload) = json else { throw InputLineError(reason: "not a JSON object") }
        self.encodedPayload = encodedPayload
        // One pass over the members (no hashing per field looked up); unknown members are ignored.
        var type: JSONValue?, payload: JSONValue?, priority: JSONValue?, id: JSONValue?, source: JSONValue?, time: JSONValue?
        for (key, value) in fields {
            switch key {
            case "type": type = value
            case "payload": payload = value
            case "priority": priority = value
            case "id": id = value
            case "source": source = value
            case "time": time = value
            default: break
            }
        }
        // A field is given or left out: `null` is neither, and is refused rather than read as absent.
        func string(_ value: JSONValue?, _ key: String) throws -> String? {
            switch value {
            case nil: return nil
            case .string(let text)?: return text
            case .null?: throw InputLineError(reason: "'\(key)' must be a string, not null")
            default: throw InputLineError(reason: "field '\(key)' has the wrong type")
            }
        }
        guard let typeText = try string(type, "type") else { throw InputLineError(reason: "missing required field 'type'") }
        self.type = typeText
        switch payload {
        case nil: self.payload = nil
        case .null?: throw InputLineError(reason: "'payload' must be a JSON object, not null")
        case let value?: self.payload = value
        }
        switch priority {
        case nil: self.priority = nil
        case .null?: throw InputLineError(reason: "'priority' must be an integer from 0 to 9, not null")
        case .int(let number)?: self.priority = Int(clamping: number)
        case .double(let number)? where number == number.rounded() && abs(number) < 1e9: self.priority = Int(number)
        default: throw InputLineError(reason: "field 'priority' has the wrong type")
        }
        self.id = try string(id, "id")
        self.source = try string(source, "source")
        self.time = try string(time, "time")
    }

    /// The event this line describes; throws a readable reason when a field is out of range.
    func event() throws -> Event {
        if let payload, payload.objectValue == nil {
            throw InputLineError(reason: "'payload' must be a JSON object")
        }
        // No depth check here: `JSONParser.maximumDepth` is the codec's limit and the payload sits
        // one level below the line's root, so every parsed payload fits `EventBodyCodec`.
        let priority = self.priority ?? Event.defaultPriority
        guard Event.priorities.contains(priority) else {
            throw InputLineError(reason: "'priority' must be an integer from 0 to 9, not \(priority)")
        }
        do {
            try EventType.validate(type)
            // The queue checks these too; checked here so the line is rejected (and recorded as such), not refused later.
            try Event.validate(id: id, source: source)
        } catch let error as EventsError {
            throw InputLineError(reason: error.message)
        }
        var timestamp: Timestamp?
        if let time {
            guard let parsed = TimestampParser.parse(time) else {
                throw InputLineError(reason: "'time' must be an RFC 3339 timestamp such as 2026-11-29T03:48:03Z")
            }
            timestamp = parsed
        }
        if let encodedPayload {
            return Event(
                type: type, encodedPayload: EncodedPayload(wellFormed: encodedPayload), priority: priority, id: id ?? EventIDGenerator.shared.next(), source: source,
                time: timestamp ?? .now(), causation: nil)
        }
        return Event(type: type, payload: payload ?? [:], priority: priority, id: id, source: source, time: timestamp)
    }
}

/// Why an input line was rejected, and the line itself (kept, sealed, in history's dead letters).
public struct InputLineError: Error, Sendable {
    /// One sentence: why the line is not an event (never quoting its content).
    public let reason: String
    /// The line's bytes.
    public var content: [UInt8] = []

    /// A rejection for `reason`, of a line holding `content`.
    public init(reason: String, content: [UInt8] = []) {
        self.reason = reason
        self.content = content
    }
}
