import SymphonyEngine
import SymphonyEvents

/// `symphony run`'s output: on standard output either each emitted event as a JSON line (the
/// default) or every action outcome as one (`--output ndjson`, a delay's only once its scheduled
/// entry is durable); problems with the input on standard error, control characters escaped; a
/// progress line on standard error when it is a terminal.
public final class TerminalOutput: OutputSink {
    /// What goes to standard output.
    public enum Lines: Sendable {
        /// Emitted events.
        case emittedEvents
        /// Action outcomes (emitted events are inside theirs).
        case outcomes
    }

    private let stdout: OutputLines
    private let lines: Lines
    private let progressLine = ProgressLine()

    /// `lines` go to `stdout`.
    package init(stdout: OutputLines, lines: Lines) {
        self.stdout = stdout
        self.lines = lines
    }

    public var reportsOutcomes: Bool { lines == .outcomes }

    public func emitted(_ event: Event) {
        if lines == .emittedEvents { stdout.write(EventJSON.text(event)) }
    }

    public func handled(_ outcomes: [ActionOutcome]) {
        guard lines == .outcomes else { return }
        for outcome in outcomes { stdout.write(outcome.json.jsonText) }
    }

    public func problem(_ line: String) {
        progressLine.clear()
        printError(displayText(line))
    }

    public func progress(_ read: Int) {
        progressLine.update(read)
    }

    public func flush() {
        progressLine.clear()
        stdout.flush()
    }
}
