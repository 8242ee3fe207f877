import SymphonyEvents

/// The key of a `delay` with `key:`: at most one delayed event per key is pending in a rule set;
/// a `cancel:` action naming the key, or an event matching `unless`, removes it before it is due.
public struct DelayKey: Sendable {
    /// The key, rendered on the event that runs the delay (e.g. `review-{{ payload.pr }}`).
    public let key: Template
    /// What happens when the key already has a pending delayed event: replace it (default) or keep it.
    public let whenPending: Scheduler.WhenPending
    /// Events that cancel the pending delay of their key, if any.
    public let unless: Unless?

    /// A delay key.
    public init(key: Template, whenPending: Scheduler.WhenPending = .replace, unless: Unless? = nil) {
        self.key = key
        self.whenPending = whenPending
        self.unless = unless
    }

    /// `unless: {on: TYPES, key: TEMPLATE}`: an event of one of these types whose rendered key is
    /// a pending delay's key cancels that delay (the key is rendered on that event, so it may name
    /// only event fields; by default it is the delay's own key template).
    public struct Unless: Sendable {
        /// The types of the cancelling events.
        public let on: [TypePattern]
        /// The key, rendered on the cancelling event.
        public let key: Template

        /// An unless clause.
        public init(on: [TypePattern], key: Template) {
            self.on = on
            self.key = key
        }
    }
}
