import SymphonyEvents

/// A rule's `after:` gate: the rule fires for an event only when an earlier event of another
/// type with the same key happened at most `within` before it, on event time (SEC's
/// PairWithWindow: A followed by B).
///
/// The earliest such earlier event still within the window is paired with the event and used
/// up: each earlier event pairs at most once.
public struct SequenceGate: Sendable, Hashable {
    /// The types of the earlier events (`on` patterns).
    public let on: [TypePattern]
    /// The key, rendered on both events (it may use the event's own fields only: id, type, payload…).
    public let key: Template
    /// How long after the earlier event the rule's event may come.
    public let within: Duration
    /// The most keys remembered; past it the least recently seen are evicted.
    public let maxKeys: Int

    /// A sequence gate.
    public init(on: [TypePattern], key: Template, within: Duration, maxKeys: Int = CountWindow.defaultMaxKeys) {
        self.on = on
        self.key = key
        self.within = within
        self.maxKeys = maxKeys
    }
}
