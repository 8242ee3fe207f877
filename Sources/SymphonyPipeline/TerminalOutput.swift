import SymphonyConcurrency
import SymphonyEngine
import SymphonyEvents
import SymphonyJSON

/// `symphony run`'s output: on standard output either each emitted event as a JSON line (the
/// default) or every action outcome as one (`--format ndjson`, a delay's only once its scheduled
/// entry is durable); on standard error, with the default output, the first
/// `shownAuditMessages` messages of `audit` actions as they are written; problems with the input
/// on standard error, control characters escaped; a progress line on standard error when it is a
/// terminal.
public final class TerminalOutput: OutputSink {
    /// What goes to standard output.
    public enum Lines: Sendable {
        /// Emitted events.
        case emittedEvents
        /// Action outcomes (emitted events are inside theirs).
        case outcomes
    }

    /// How many audit messages the default output shows; `finish()` counts the rest.
    public static let shownAuditMessages = 20

    private let stdout: OutputLines
    private let lines: Lines
    private let progressLine = ProgressLine()
    private let audits = Locked(0)

    private let showsAuditMessages: Bool

    /// `lines` go to `stdout`; `auditMessages` shows audit messages on standard error (with
    /// `.emittedEvents` only: outcome lines carry them).
    package init(stdout: OutputLines, lines: Lines, auditMessages: Bool = false) {
        self.stdout = stdout
        self.lines = lines
        showsAuditMessages = auditMessages && lines == .emittedEvents
    }

    public var reportsOutcomes: Bool { lines == .outcomes }

    public func emitted(_ event: Event) {
        guard lines == .emittedEvents else { return }
        var writer = JSONWriter()
        EventJSON.write(event, to: &writer)
        writer.byte(UInt8(ascii: "\n"))
        stdout.write(lines: writer.bytes)
    }

    public func handled(_ outcomes: [ActionOutcome]) {
        guard lines == .outcomes, !outcomes.isEmpty else { return }
        var writer = JSONWriter(capacity: 512 * outcomes.count)
        for outcome in outcomes {
            outcome.writeJSON(to: &writer)
            writer.byte(UInt8(ascii: "\n"))
        }
        stdout.write(lines: writer.bytes)
    }

    public func audited(rule: String, message: String) {
        guard showsAuditMessages else { return }
        let count = audits.withLock { count -> Int in
            count += 1
            return count
        }
        guard count <= Self.shownAuditMessages else { return }
        progressLine.clear()
        printError("audit: \(displayText(message)) (rule \(rule))")
    }

    /// Says how many audit messages were not shown (nothing when all were); call once the run ended.
    public func finish() {
        let hidden = audits.withLock { $0 } - Self.shownAuditMessages
        if hidden > 0 { printError("audit: … and \(grouped(hidden)) more audit message\(hidden == 1 ? "" : "s") ('symphony history' shows them all)") }
    }

    public func problem(_ line: String) {
        progressLine.clear()
        printError(displayText(line))
    }

    /// Shows the queue's depth in the progress line (on a terminal).
    public func showQueueDepth(_ depth: @escaping @Sendable () -> Int) {
        progressLine.showQueueDepth(depth)
    }

    public func progress(_ read: Int) {
        progressLine.update(read)
    }

    public func flush() {
        progressLine.clear()
        stdout.flush()
    }
}
