import SymphonyEvents
import SymphonyRecords

/// Where a run's input comes from: files, standard input, and later a followed file or HTTP.
///
/// A source reads in order and hands each item to the pipeline; it never holds more than it has
/// read. Once `stop` is requested it reads no more input, but every item it already read still
/// reaches `body`.
public protocol EventSource: Sendable {
    /// Calls `body` with each item, in input order, until the input ends, `stop` is requested, or
    /// `body` returns false; returns false if part of the input could not be read. `beforeRead`
    /// runs before each read that may block, so batched work is not held back waiting for input.
    func forEach(beforeRead: @escaping () -> Void, stop: StopRequest?, _ body: (SourceItem) throws -> Bool) throws -> Bool
}

/// Where an input item came from: `path:line`, or `<stdin>:line`.
public struct SourceOrigin: Sendable, Hashable, CustomStringConvertible {
    /// The file as named, `<stdin>`, or another source's name.
    public let source: String
    /// The 1-based line (or item) number.
    public let line: Int

    public init(source: String, line: Int) {
        self.source = source
        self.line = line
    }

    public var description: String { "\(source):\(line)" }
}

/// One item read: its event or why it was rejected, where it came from, whether invalid UTF-8
/// in it was replaced by U+FFFD (raw text lines only; JSON lines are rejected instead), and what
/// a line parser could not read from it (the event is kept).
public struct SourceItem: Sendable {
    public let result: Result<Event, InputLineError>
    public let origin: SourceOrigin
    public let replacedInvalidUTF8: Bool
    /// Why a rule set's line parser read the line only in part (no match, a time or typed field that did not parse).
    public let parseProblem: String?
    /// For a followed file: where it stands once this line is taken (stored with the events).
    public let position: FilePosition?

    public init(
        result: Result<Event, InputLineError>, origin: SourceOrigin, replacedInvalidUTF8: Bool = false, parseProblem: String? = nil,
        position: FilePosition? = nil
    ) {
        self.result = result
        self.origin = origin
        self.replacedInvalidUTF8 = replacedInvalidUTF8
        self.parseProblem = parseProblem
        self.position = position
    }
}
