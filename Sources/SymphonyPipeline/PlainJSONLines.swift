/// How to read JSON lines that are application logs, not events (they have no `type`): each line's
/// object becomes the payload of an event whose type is fixed (`--json TYPE`) or read from one of
/// its top-level string fields (`--type-from FIELD`).
public enum PlainJSONLines: Sendable, Hashable {
    /// Every line is an event of this type.
    case type(String)
    /// Each line's type is the value of this top-level string field (a line without it is rejected).
    case typeField(String)
}
