import SymphonyEngine
import SymphonyEvents

/// Where a run's visible results go: emitted events, action outcomes and problems with input.
///
/// Called from worker threads and the reading thread at once: implementations are thread-safe.
public protocol OutputSink: Sendable {
    /// True when the sink shows every action outcome (`handled`); the pipeline then makes a
    /// delay durable before its outcome is handed over.
    var reportsOutcomes: Bool { get }

    /// An event an `emit` action produced.
    func emitted(_ event: Event)

    /// The outcomes of the actions run for one event (none when no rule acted), in order.
    func handled(_ outcomes: [ActionOutcome])

    /// A message an `audit` action wrote (it is also in the action's outcome and the history).
    func audited(rule: String, message: String)

    /// A line about the input: a rejected or denied line, an input that could not be read.
    func problem(_ line: String)

    /// How many input lines were read so far (for a progress display).
    func progress(_ read: Int)

    /// Writes out anything buffered.
    func flush()
}

extension OutputSink {
    public func progress(_ read: Int) {}
    public func audited(rule: String, message: String) {}
}
