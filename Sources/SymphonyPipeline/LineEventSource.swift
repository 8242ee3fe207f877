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
    /// With a value, JSON lines are application log records (no `type`): see `PlainJSONLines`.
    public var plainJSON: PlainJSONLines?
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
            let decoder = LineDecoder(rawLinesType: rawLinesType, lineParser: lineParser, plainJSON: plainJSON)
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
                let item: SourceItem
                if line.tooLong {
                    let problem = InputLineError(reason: "line is longer than \(reader.maximumLineLength) bytes", content: line.bytes)
                    item = SourceItem(result: .failure(problem), origin: origin, replacedInvalidUTF8: false, parseProblem: nil)
                } else {
                    let parsed = StageTimes.shared.measure(.decode) { decoder.decode(line.bytes, previousTime: &previousTime) }
                    // Each outcome moved into the item: mapping the Result would copy the event.
                    switch parsed.result {
                    case .success(let event):
                        item = SourceItem(result: .success(event), origin: origin, replacedInvalidUTF8: parsed.replacedInvalidUTF8, parseProblem: parsed.parseProblem)
                    case .failure(var problem):
                        problem.content = line.bytes
                        item = SourceItem(result: .failure(problem), origin: origin, replacedInvalidUTF8: parsed.replacedInvalidUTF8, parseProblem: parsed.parseProblem)
                    }
                }
                guard try body(item) else { return allOpened }
            }
        }
        return allOpened
    }
}
