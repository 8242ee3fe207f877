/// Validation of event type names: dotted segments of letters, digits, `_` and `-`.
public enum EventType {
    /// Throws `invalidType` unless `type` is one or more non-empty dotted segments without wildcards.
    public static func validate(_ type: String) throws {
        if let problem = problem(in: type, allowingWildcards: false) {
            throw EventsError(.invalidType, "Invalid event type '\(type)': \(problem).")
        }
    }

    /// What is wrong with a type or pattern, or nil when it is valid.
    static func problem(in name: String, allowingWildcards: Bool) -> String? {
        guard !name.isEmpty else { return "it is empty" }
        guard name.utf8.count <= 256 else { return "it is longer than 256 bytes" }
        for segment in name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            if segment.isEmpty { return "it has an empty segment" }
            if allowingWildcards && (segment.elementsEqual("*".utf8) || segment.elementsEqual("**".utf8)) { continue }
            for byte in segment {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    continue
                case UInt8(ascii: "*"):
                    return allowingWildcards
                        ? "'*' and '**' must stand alone as a whole segment" : "wildcards are allowed only in patterns"
                default:
                    return "segments may hold only letters, digits, '_' and '-'"
                }
            }
        }
        return nil
    }
}
