/// Proof that a dispatcher's workers are running: only `EventDispatcher.start()` makes one.
///
/// A scheduler that publishes into a dispatcher starts with this handle
/// (`Scheduler.start(publishingThrough:)`), so overdue entries it fires at start-up always go
/// into a queue that workers drain — never into a bounded queue that nobody empties, where a
/// publish waiting for room would wait forever.
public struct RunningDispatcher: Sendable {
    /// The dispatcher whose workers are running.
    public let dispatcher: EventDispatcher

    init(_ dispatcher: EventDispatcher) {
        self.dispatcher = dispatcher
    }

    /// Queues `event` on the running dispatcher (see `EventDispatcher.publish(_:fromHandler:)`).
    public func publish(_ event: Event) throws {
        try dispatcher.publish(event)
    }

    /// Queues the event a scheduled entry fired (see `EventDispatcher.publish(fired:sealed:entry:fromHandler:holding:)`).
    func publish(fired event: Event, sealed: SealedEvent?, entry fired: FiredEntry?, fromHandler: Bool = false, holding: Bool = false) throws {
        try dispatcher.publish(fired: event, sealed: sealed, entry: fired, fromHandler: fromHandler, holding: holding)
    }
}
