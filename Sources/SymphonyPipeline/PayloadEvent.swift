import SymphonyEvents
import SymphonyJSON

/// Events made from a JSON object that is all payload — a log record (`--json`, `--type-from`),
/// a webhook body — with the type named apart from it.
public enum PayloadEvent {
    /// The value of the top-level string field `field` of `fields`, or why there is none.
    public static func typeName(in fields: [String: JSONValue], field: String) -> Result<String, InputLineError> {
        guard case .string(let named)? = fields[field] else {
            return .failure(InputLineError(reason: "the field '\(field)' that names the event type is missing or not a string"))
        }
        return .success(named)
    }

    /// An event of `type` with `payload`, or why `type` is not a valid event type.
    public static func make(type: String, payload: JSONValue) -> Result<Event, InputLineError> {
        do {
            try EventType.validate(type)
        } catch let error as EventsError {
            return .failure(InputLineError(reason: "the event type is not valid: \(error.message)"))
        } catch {
            return .failure(InputLineError(reason: "the event type is not valid"))
        }
        return .success(Event(type: type, payload: payload))
    }
}
