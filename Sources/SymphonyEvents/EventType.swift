/// Validation of event type names: dotted segments of letters, digits, `_` and `-`.
public enum EventType {
    /// Throws `invalidType` unless `type` is one or more non-empty dotted segments without wildcards.
    public static func validate(_ type: String) throws {
        if let problem = problem(in: type, allowingWildcards: false) {
            throw EventsError(.invalidType, "Invalid event type '\(type)': \(problem).")
        }
    }

    /// What is wrong with a type or pattern, or nil when it is valid. One pass, no allocation.
    static func problem(in name: String, allowingWildcards: Bool) -> String? {
        var name = name
        return name.withUTF8 { problem(in: $0, allowingWildcards: allowingWildcards) }
    }

    private static func problem(in bytes: UnsafeBufferPointer<UInt8>, allowingWildcards: Bool) -> String? {
        guard !bytes.isEmpty else { return "it is empty" }
        guard bytes.count <= 256 else { return "it is longer than 256 bytes" }
        var segmentStart = 0
        var stars = 0
        for index in 0...bytes.count {
            let byte = index < bytes.count ? bytes[index] : UInt8(ascii: ".")
            switch byte {
            case UInt8(ascii: "."):
                let length = index - segmentStart
                if length == 0 { return "it has an empty segment" }
                if stars > 0 {
                    guard allowingWildcards else { return "wildcards are allowed only in patterns" }
                    guard stars == length && length <= 2 else { return "'*' and '**' must stand alone as a whole segment" }
                }
                segmentStart = index + 1
                stars = 0
            case UInt8(ascii: "*"):
                stars += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return "segments may hold only letters, digits, '_' and '-'"
            }
        }
        return nil
    }
}
