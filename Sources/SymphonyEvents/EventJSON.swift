import SymphonyJSON

/// Events as JSON objects, the shape input lines have.
public enum EventJSON {
    /// `{"id", "type", "priority", "payload", "source"?, "time", "causation"?}`.
    public static func object(_ event: Event) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(event.id), "type": .string(event.type), "priority": .int(Int64(event.priority)),
            "payload": event.payload, "time": .string(event.time.description),
        ]
        if let source = event.source { object["source"] = .string(source) }
        if let causation = event.causation {
            object["causation"] = ["parent": .string(causation.parentID), "rule": .string(causation.rule), "hop": .int(Int64(causation.hop))]
        }
        return .object(object)
    }

    /// `object(event).jsonText`, written directly (keys in the same sorted order) without building
    /// the intermediate dictionary: what `emit` prints for every emitted event.
    public static func text(_ event: Event) -> String {
        var output = "{"
        if let causation = event.causation {
            output += #""causation":{"hop":"#
            output += String(causation.hop)
            output += #","parent":"#
            JSONValue.writeString(causation.parentID, to: &output)
            output += #","rule":"#
            JSONValue.writeString(causation.rule, to: &output)
            output += "},"
        }
        output += #""id":"#
        JSONValue.writeString(event.id, to: &output)
        output += #","payload":"#
        event.payload.write(to: &output)
        output += #","priority":"#
        output += String(event.priority)
        if let source = event.source {
            output += #","source":"#
            JSONValue.writeString(source, to: &output)
        }
        output += #","time":""#
        output += event.time.description
        output += #"","type":"#
        JSONValue.writeString(event.type, to: &output)
        output += "}"
        return output
    }
}
