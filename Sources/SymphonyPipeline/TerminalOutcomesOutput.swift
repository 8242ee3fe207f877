import SymphonyEngine
import SymphonyEvents

/// `symphony run --output ndjson`: every action outcome as one JSON line on standard output (a
/// delay's only once its scheduled entry is durable); emitted events are part of their outcome.
public final class TerminalOutcomesOutput: OutputSink {
    private let stdout: OutputLines
    private let progressLine = ProgressLine()

    /// Outcomes go to `stdout`.
    package init(stdout: OutputLines) {
        self.stdout = stdout
    }

    public var reportsOutcomes: Bool { true }

    public func emitted(_ event: Event) {}

    public func handled(_ outcomes: [ActionOutcome]) {
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
