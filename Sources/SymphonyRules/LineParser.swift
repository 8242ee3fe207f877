import SymphonyEvents
import SymphonyJSON
import SymphonyRegex

/// A rule set's parser for raw lines of one `--lines` type: a regex whose named captures become
/// payload fields (typed by `%{NAME:field:int}`), and which capture holds the event time.
///
/// Every line still becomes an event, with the whole line in `payload.message`: a line the regex
/// does not match keeps only `message`, and a time that does not parse leaves the event at its
/// reading time; both are reported and counted, never dropped.
public struct LineParser: Sendable {
    /// The `--lines` type this parser reads.
    public let type: String
    /// The expanded regex.
    public let regex: RegularExpression
    /// Captures with a type other than string.
    public let types: [String: CaptureType]
    /// The capture holding the event time, and its format; nil keeps the reading time.
    public let time: (field: String, format: TimeFormat)?

    /// A parser.
    public init(type: String, regex: RegularExpression, types: [String: CaptureType], time: (field: String, format: TimeFormat)?) {
        self.type = type
        self.regex = regex
        self.types = types
        self.time = time
    }

    /// What a line became.
    public struct Decoded: Sendable {
        /// The event's payload: `message` and the captured fields.
        public var payload: JSONValue
        /// The event time read from the line; nil when there is none (the reading time applies).
        public var time: Timestamp?
        /// Why the line was not fully parsed, if it was not (safe to show: names fields, never quotes the line).
        public var problem: String?
    }

    /// Parses `line`, read at `reference` (a syslog time's year comes from it).
    public func decode(_ line: String, reference: Timestamp) -> Decoded {
        var payload: [String: JSONValue] = ["message": .string(line)]
        let match: RegexMatch?
        do {
            match = try regex.firstMatch(in: line)
        } catch {
            return Decoded(payload: .object(payload), time: nil, problem: "the '\(type)' line pattern stopped: \(error.message)")
        }
        guard let match else {
            return Decoded(payload: .object(payload), time: nil, problem: "does not match the '\(type)' line pattern; kept as message only")
        }
        var problems: [String] = []
        for case let name? in regex.groupNames where name != "message" {  // in the pattern's order
            guard let text = match.namedGroups[name] else { continue }
            let type = types[name] ?? .string
            if let value = type.value(text) {
                payload[name] = value
            } else {
                payload[name] = .string(text)
                problems.append("'\(name)' is not \(type == .int ? "an" : "a") \(type.rawValue); kept as text")
            }
        }
        var time: Timestamp?
        if let (field, format) = self.time {
            if let text = match.namedGroups[field], let parsed = format.parse(text, reference: reference) {
                time = parsed
            } else {
                problems.append(match.namedGroups[field] == nil ? "no time: '\(field)' was not captured" : "the time in '\(field)' does not parse as \(format.name)")
            }
        }
        return Decoded(payload: .object(payload), time: time, problem: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }
}
