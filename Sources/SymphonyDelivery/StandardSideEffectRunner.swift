import SymphonyRecords

/// Placeholder until the runners land.
public struct StandardSideEffectRunner: SideEffectRunner {
    public init() {}
    public func attempt(_ entry: OutboxEntry) -> AttemptResult { AttemptResult(verdict: .fail, message: "not available") }
}
