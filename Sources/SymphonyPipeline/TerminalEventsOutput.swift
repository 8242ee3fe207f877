import SymphonyEngine
import SymphonyEvents

/// `symphony run`'s default output: each emitted event as a JSON line on standard output, problems
/// with the input on standard error (control characters escaped), and a progress line on standard
/// error when it is a terminal.
public final class TerminalEventsOutput: OutputSink {
    private let stdout: OutputLines
    private let progressLine = ProgressLine()

    /// Emitted events go to `stdout`.
    package init(stdout: OutputLines) {
        self.stdout = stdout
    }

    public var reportsOutcomes: Bool { false }

    public func emitted(_ event: Event) {
        stdout.write(EventJSON.text(event))
    }

    public func handled(_ outcomes: [ActionOutcome]) {}

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
