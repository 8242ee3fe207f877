import SymphonyEvents

/// Effects that do nothing, for engines that run no action: finding the keys an event would use,
/// or rebuilding gate state for a report.
public struct NoActionEffects: ActionEffects {
    /// Effects that do nothing.
    public init() {}

    public func publish(_ event: Event) throws -> SealedEvent? { nil }
    public func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent? { nil }
    public func audit(rule: String, event: Event, message: String) throws {}
    public func emit(_ event: Event) throws {}
}
