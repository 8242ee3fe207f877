import SymphonyJSON

/// The JSON type a captured field takes: `%{INT:port:int}` makes `payload.port` a number.
public enum CaptureType: String, Sendable, CaseIterable {
    case string, int, float, bool

    /// `text` as this type, or nil when it is not one (`"12x"` is no int).
    public func value(_ text: String) -> JSONValue? {
        switch self {
        case .string: return .string(text)
        case .int: return Int64(text).map(JSONValue.int)
        case .float:
            guard let value = Double(text), value.isFinite else { return nil }
            return .double(value)
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "on", "1": return .bool(true)
            case "false", "no", "off", "0": return .bool(false)
            default: return nil
            }
        }
    }
}
