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
            writer.raw("{")
            writer.key("hop")
            writer.int(Int64(causation.hop))
            writer.raw(",")
            writer.key("parent")
            writer.string(causation.parentID)
            writer.raw(",")
            writer.key("rule")
            writer.string(causation.rule)
            writer.raw("},")
        }
        writer.key("id")
        writer.string(event.id)
        writer.raw(",")
        writer.key("payload")
        if let encoded = event.encodedPayload {
            encoded.writeJSON(to: &writer)
        } else {
            writer.value(event.payload)
        }
        writer.raw(",")
        writer.key("priority")
        writer.int(Int64(event.priority))
        if let source = event.source {
            writer.raw(",")
            writer.key("source")
            writer.string(source)
        }
        writer.raw(",")
        writer.key("time")
        writer.string(event.time.description)
        writer.raw(",")
        writer.key("type")
        writer.string(event.type)
        writer.byte(UInt8(ascii: "}"))
    }
}
