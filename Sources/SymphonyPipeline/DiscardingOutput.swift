import SymphonyEngine
import SymphonyEvents

/// Shows nothing: emitted events, outcomes and problems are dropped (the history still has them).
public struct DiscardingOutput: OutputSink {
    public init() {}
    public var reportsOutcomes: Bool { false }
    public func emitted(_ event: Event) {}
    public func handled(_ outcomes: [ActionOutcome]) {}
    public func problem(_ line: String) {}
    public func flush() {}
}
