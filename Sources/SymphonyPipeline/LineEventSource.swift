import SymphonyJSON
import SymphonyEvents
import SymphonyRules

/// Reads events from JSON Lines files or standard input, a line at a time, never a whole file.
///
/// A line that is not a valid event is reported as a rejection (with its origin and reason) and
/// skipped. With `rawLinesType`, every line is text, JSON or not: it becomes
/// `{"type": rawLinesType, "payload": {"message": LINE}}`, so log files can be fed directly; invalid
/// UTF-8 in such a line is replaced by U+FFFD (and reported as such) instead of rejecting it.
public struct LineEventSource: EventSource {
    /// The files to read in order; `-` is standard input.
    public let paths: [String]
    /// With a type, every line is raw text of that type (`--lines`).
    public let rawLinesType: String?
    /// The rule set's parser for `rawLinesType` lines, if it declares one: captures become
    /// payload fields and the line's time the event time.
    public let lineParser: LineParser?
    /// Where problems with the input itself go: a file that cannot be read, a line a stop cut off.
    private let report: @Sendable (String) -> Void

    /// Reads `paths` in order (standard input when empty); problems with the input go to standard error.
    public init(paths: [String], rawLinesType: String?, lineParser: LineParser? = nil) {
        self.init(paths: paths, rawLinesType: rawLinesType, lineParser: lineParser, report: { printError($0) })
    }

    /// Reads `paths` in order (standard input when empty); problems with the input go to `report`.
    /// `lineParser` applies only with `rawLinesType`.
    public init(paths: [String], rawLinesType: String?, lineParser: LineParser? = nil, report: @escaping @Sendable (String) -> Void) {
        self.report = report
        self.paths = paths.isEmpty ? ["-"] : paths
        self.rawLinesType = rawLinesType
        self.lineParser = rawLinesType == nil ? nil : lineParser
    }

    /// Calls `body` with each line read (an event or a rejection), in input order, until it returns false;
    /// returns false if a file could not be opened. `beforeRead` runs before each read that may
    /// block (and at the end of each file), so batched work is not held back waiting for input.
    /// Once `stop` is requested no more input is read (nor another file opened); the lines already
    /// read still reach `body`. The start of a line whose end was not read is no line: it does not
    /// reach `body` but is reported on stderr (`path:line: not processed: …`).
    public func forEach(beforeRead: @escaping () -> Void = {}, stop: StopRequest? = nil, _ body: (SourceItem) throws -> Bool) throws -> Bool {
        var allOpened = true
        for path in paths {
            if stop?.isRequested == true { break }
            let reader: LineReader
            do {
                reader = try LineReader(path: path)
            } catch {
                report("symphony: \(error)")
                allOpened = false
                continue
            }
            reader.beforeRead = beforeRead
            reader.stop = stop
            let source = path == "-" ? "<stdin>" : path
            var previousTime: Timestamp?  // the last time the line parser read in this file
            // A file that opens but cannot be read (a directory, an I/O error) counts as unreadable
            // like one that does not open: reported, and the other inputs are still read.
            func nextLine() -> LineReader.Line? {
                do {
                    return try reader.next()
                } catch {
                    report("symphony: \(error)")
                    allOpened = false
                    return nil
                }
            }
            while let line = nextLine() {
                if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                let origin = SourceOrigin(source: source, line: line.number)
                if line.incomplete {
                    let count = line.tooLong ? "more than \(reader.maximumLineLength)" : "\(line.bytes.count)"
                    report("\(origin): not processed: a signal stopped the input after \(count) bytes of this line, before its end")
                    return allOpened
                }
                let result: Result<Event, InputLineError>
                var replaced = false
                var parseProblem: String?
                if line.tooLong {
                    result = .failure(InputLineError(reason: "line is longer than \(reader.maximumLineLength) bytes", content: line.bytes))
                } else {
                    let parsed = StageTimes.shared.measure(.decode) { parse(line.bytes, previousTime: &previousTime) }
                    replaced = parsed.replacedInvalidUTF8
                    parseProblem = parsed.parseProblem
                    result = parsed.result.mapError { problem in
                        var problem = problem
                        problem.content = line.bytes
                        return problem
                    }
                }
                guard try body(SourceItem(result: result, origin: origin, replacedInvalidUTF8: replaced, parseProblem: parseProblem)) else { return allOpened }
            }
        }
        return allOpened
    }

    /// A parse error as a rejection reason, naming the event field it is in (`in 'payload'`); a
    /// key that is not an event field is not named: it is the line's content, which reasons never quote.
    private static func describe(_ error: JSONParser.ParseError) -> String {
        guard let key = error.topLevelKey, InputEvent.fieldNames.contains(key) else { return error.description }
        return "\(error.message) in '\(key)' at byte \(error.offset + 1)"
    }

    /// The line's event or why it is rejected, and whether invalid UTF-8 was replaced to make it.
    func parse(
        _ bytes: [UInt8], previousTime: inout Timestamp?
    ) -> (result: Result<Event, InputLineError>, replacedInvalidUTF8: Bool, parseProblem: String?) {
        // One pass for NUL bytes and non-ASCII; only a line with non-ASCII bytes needs a full UTF-8 check.
        var orBits: UInt8 = 0
        var hasNUL = false
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer {
                orBits |= byte
                hasNUL = hasNUL || byte == 0
            }
        }
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
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            return (.failure(InputLineError(reason: "not valid JSON: \(Self.describe(error))")), false, nil)
        }
        do {
            return (.success(try InputEvent(json: value).event()), false, nil)
        } catch let error as InputLineError {
            return (.failure(error), false, nil)
        } catch {
            return (.failure(InputLineError(reason: "not a valid event")), false, nil)
        }
    }
}
