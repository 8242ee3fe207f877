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
        var writer = JSONWriter()
        write(event, to: &writer)
        return writer.text
    }

    /// Appends `object(event).jsonText` to `writer`, keys in a fixed order (the sorted one) and
    /// an encoded payload written from its bytes.
    public static func write(_ event: Event, to writer: inout JSONWriter) {
        writer.byte(UInt8(ascii: "{"))
        if let causation = event.causation {
            writer.key("causation")
            writer.byte(UInt8(ascii: "{"))
            writer.key("hop")
            writer.int(Int64(causation.hop))
            writer.member("parent", causation.parentID)
            writer.member("rule", causation.rule)
            writer.raw("},")
        }
        writer.key("id")
        writer.string(event.id)
        writer.nextKey("payload")
        if let encoded = event.encodedPayload {
            encoded.writeJSON(to: &writer)
        } else {
            writer.value(event.payload)
        }
        writer.member("priority", int: Int64(event.priority))
        if let source = event.source { writer.member("source", source) }
        writer.member("time", event.time.description)
        writer.member("type", event.type)
        writer.byte(UInt8(ascii: "}"))
    }
}
