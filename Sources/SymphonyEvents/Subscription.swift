/// A handler's subscription; `cancel()` stops further deliveries to it.
///
/// Dropping a subscription does not cancel it: a handler stays subscribed until cancelled or the
/// system stops. An event already being delivered when `cancel()` is called may still reach it.
public final class Subscription: Sendable {
    /// The pattern the handler was subscribed with.
    public let pattern: TypePattern
    private let id: SubscriptionID
    private let registry: HandlerRegistry

    init(pattern: TypePattern, id: SubscriptionID, registry: HandlerRegistry) {
        self.pattern = pattern
        self.id = id
        self.registry = registry
    }

    /// Stops deliveries to this subscription's handler; calling it again does nothing.
    public func cancel() {
        registry.remove(id)
    }
}
