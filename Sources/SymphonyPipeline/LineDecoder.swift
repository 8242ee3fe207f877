import SymphonyEvents
import SymphonyJSON
import SymphonyRules

/// Turns one input line into an event, or into the reason it is rejected: a JSON event line, or
/// with `rawLinesType` raw text (read by the rule set's line parser, if any). Shared by the
/// sources that read lines (`LineEventSource`, `FollowedFileSource`).
/// A class, not a struct: a source calls it once per line, and a struct would copy its line parser each time.
final class LineDecoder: Sendable {
    /// With a type, every line is raw text of that type (`--lines`).
    let rawLinesType: String?
    /// The rule set's parser for `rawLinesType` lines.
    let lineParser: LineParser?
    /// With a value, JSON lines are log records, not events: each object is a payload.
    let plainJSON: PlainJSONLines?

    init(rawLinesType: String?, lineParser: LineParser?, plainJSON: PlainJSONLines? = nil) {
        self.rawLinesType = rawLinesType
        self.lineParser = lineParser
        self.plainJSON = plainJSON
    }

    /// A parse error as a rejection reason, naming the event field it is in (`in 'payload'`); a
    /// key that is not an event field is not named: it is the line's content, which reasons never quote.
    private static func describe(_ error: JSONParser.ParseError) -> String {
        guard let key = error.topLevelKey, InputEvent.fieldNames.contains(key) else { return error.description }
        return "\(error.message) in '\(key)' at byte \(error.offset + 1)"
    }

    /// A JSON log record as an event: the object is the payload, the type fixed or read from a field.
    private static func logRecord(_ value: JSONValue, as mode: PlainJSONLines) -> Result<Event, InputLineError> {
        guard case .object(let fields) = value else { return .failure(InputLineError(reason: "not a JSON object")) }
        switch mode {
        case .type(let fixed):
            return PayloadEvent.make(type: fixed, payload: value)
        case .typeField(let field):
            return PayloadEvent.typeName(in: fields, field: field).flatMap { PayloadEvent.make(type: $0, payload: value) }
        }
    }

    /// The line's event or why it is rejected, and whether invalid UTF-8 was replaced to make it.
    func decode(
        _ bytes: [UInt8], previousTime: inout Timestamp?
    ) -> (result: Result<Event, InputLineError>, replacedInvalidUTF8: Bool, parseProblem: String?) {
        // One pass for NUL bytes and non-ASCII; only a line with non-ASCII bytes needs a full UTF-8 check.
        let (orBits, hasNUL) = bytes.withUnsafeBufferPointer { ByteScan.summary($0) }
        let invalidUTF8 = orBits & 0x80 != 0 && String(validating: bytes, as: UTF8.self) == nil
        if invalidUTF8 && rawLinesType == nil {
            return (.failure(InputLineError(reason: "not valid UTF-8")), false, nil)
        }
        if hasNUL {
            return (.failure(InputLineError(reason: "contains a NUL byte")), false, nil)
        }
        // With --lines, every line is text, never parsed: a log line that looks like a JSON event
        // must not become one (anyone who can write to the log would choose its type and source).
        // Invalid bytes become U+FFFD, as log matchers such as fail2ban read them, rather than losing the line.
        if let rawLinesType {
            let message = String(decoding: bytes, as: UTF8.self)
            guard let lineParser else {
                return (.success(Event(type: rawLinesType, payload: ["message": .string(message)])), invalidUTF8, nil)
            }
            let now = Timestamp.now()
            let decoded = lineParser.decode(message, reference: now)
            var problem = decoded.problem
            // A line without a readable time takes the time of the line before it: logs are
            // written in time order, and its reading time would make it the newest event of its key.
            if let time = decoded.time {
                previousTime = time
            } else if lineParser.time != nil {
                problem = (problem ?? "no time") + (previousTime == nil ? "; it keeps its reading time" : "; it takes the time of the line before it")
            }
            let time = decoded.time ?? (lineParser.time == nil ? nil : previousTime) ?? now
            return (.success(Event(type: rawLinesType, payload: decoded.payload, time: time)), invalidUTF8, problem)
        }
        if let plainJSON {
            do {
                return (Self.logRecord(try JSONParser.parse(bytes), as: plainJSON), false, nil)
            } catch {
                return (.failure(InputLineError(reason: "not valid JSON: \(Self.describe(error))")), false, nil)
            }
        }
        // The payload goes straight into the encoding the queue seals and the workers read in place.
        let parsed: Result<JSONParser.Root, JSONParser.ParseError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(JSONParser.ParseError) { return .success(try JSONParser.parseRoot(buffer, encodingMember: "payload")) } catch {
                return .failure(error)
            }
        }
        let root: JSONParser.Root
        switch parsed {
        case .success(let value): root = value
        case .failure(let error): return (.failure(InputLineError(reason: "not valid JSON: \(Self.describe(error))")), false, nil)
        }
        do {
            return (.success(try InputEvent(json: root).event()), false, nil)
        } catch let error as InputLineError {
            return (.failure(error), false, nil)
        } catch {
            return (.failure(InputLineError(reason: "not a valid event")), false, nil)
        }
    }
}
