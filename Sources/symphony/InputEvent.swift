import SymphonyEvents

/// One line of JSON Lines input, as users write it: `type` required; `payload`, `priority`, `id`, `source`, `time` optional.
struct InputEvent {
    let type: String
    let payload: JSONValue?
    let priority: Int?
    let id: String?
    let source: String?
    let time: String?

    /// The fields of a parsed line; throws a readable reason naming the field (never its content).
    init(json: JSONValue) throws {
        guard case .object(let fields) = json else { throw InputLineError(reason: "not a JSON object") }
        func string(_ key: String) throws -> String? {
            switch fields[key] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw InputLineError(reason: "field '\(key)' has the wrong type")
            }
        }
        guard fields["type"] != nil, fields["type"] != .null else { throw InputLineError(reason: "missing required field 'type'") }
        type = try string("type")!
        switch fields["payload"] {
        case nil, .null?: payload = nil
        case let value?: payload = value
        }
        switch fields["priority"] {
        case nil, .null?: priority = nil
        case .int(let number)?: priority = Int(clamping: number)
        case .double(let number)? where number == number.rounded() && abs(number) < 1e9: priority = Int(number)
        default: throw InputLineError(reason: "field 'priority' has the wrong type")
        }
        id = try string("id")
        source = try string("source")
        time = try string("time")
    }

    /// The event this line describes; throws a readable reason when a field is out of range.
    func event() throws -> Event {
        if let payload, payload.objectValue == nil {
            throw InputLineError(reason: "'payload' must be a JSON object")
        }
        if let payload, Self.depth(of: payload, limit: EventBodyCodec.maximumDepth) > EventBodyCodec.maximumDepth {
            throw InputLineError(reason: "'payload' nests deeper than \(EventBodyCodec.maximumDepth) levels")
        }
        let priority = self.priority ?? Event.defaultPriority
        guard Event.priorities.contains(priority) else {
            throw InputLineError(reason: "'priority' must be an integer from 0 to 9, not \(priority)")
        }
        do {
            try EventType.validate(type)
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
        return Event(type: type, payload: payload ?? [:], priority: priority, id: id, source: source, time: timestamp)
    }
}

extension InputEvent {
    /// How deeply `value` nests, counting no further than `limit + 1`.
    static func depth(of value: JSONValue, limit: Int) -> Int {
        var deepest = 0
        var stack: [(JSONValue, Int)] = [(value, 0)]
        while let (node, depth) = stack.popLast() {
            deepest = max(deepest, depth)
            if deepest > limit { return deepest }
            switch node {
            case .array(let items): for item in items { stack.append((item, depth + 1)) }
            case .object(let members): for member in members.values { stack.append((member, depth + 1)) }
            default: break
            }
        }
        return deepest
    }

}

/// Why an input line was rejected, and the line itself (kept, sealed, in history's dead letters).
struct InputLineError: Error {
    let reason: String
    var content: [UInt8] = []
}
