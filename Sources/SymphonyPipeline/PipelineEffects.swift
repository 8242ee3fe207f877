import SymphonyEngine
import SymphonyEvents

/// Side effects of a run's actions: into the event system and onto the run's output.
///
/// Once a stop was requested (SIGINT, SIGTERM) no derived event is published any more: the
/// action fails instead, so the events already queued drain without deriving new work. Delays
/// are still stored (they fire in a later run).
struct PipelineEffects: ActionEffects {
    /// Why a derived event was not published.
    struct Stopping: Error, CustomStringConvertible {
        let reason: String
        var description: String { "the run is stopping (\(reason)); derived events are no longer published" }
    }

    let system: EventSystem
    /// Where emitted events go.
    let output: any OutputSink
    /// Set by a signal.
    let stop: StopRequest

    func publish(_ event: Event) throws -> SealedEvent? {
        guard !stop.isRequested else { throw Stopping(reason: stop.reason) }
        return try system.publish(event, fromHandler: true)
    }

    func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent? {
        // A delay already due goes into the queue from this worker, unless the run is stopping
        // (then it stays stored, for a later run, like any delay).
        try system.scheduleSealed(event, at: due, fromHandler: !stop.isRequested).sealed
    }

    func schedule(_ event: Event, at due: Timestamp, key: String, whenPending: Scheduler.WhenPending) throws -> KeyedDelay {
        switch try system.schedule(event, at: due, key: key, whenPending: whenPending, fromHandler: !stop.isRequested) {
        case .scheduled(let entry): .scheduled(sealed: entry.sealed)
        case .replaced(let entry, let cancelled): .replaced(sealed: entry.sealed, cancelled: cancelled.event)
        case .kept(let pending): .kept(pending: pending.event)
        }
    }

    func cancelDelay(key: String, madeBy rule: String?, sparing parentID: String?) throws -> Event? {
        try system.scheduler.cancel(key: key) { entry in
            (rule == nil || entry.event.causation?.rule == rule) && (parentID == nil || entry.event.causation?.parentID != parentID)
        }?.event
    }

    func audit(rule: String, event: Event, message: String) throws {
        // The action's outcome carries the message, and history stores it with the execution
        // (`executions.message`); the output shows it as it happens.
        output.audited(rule: rule, message: message)
    }

    func emit(_ event: Event) throws {
        output.emitted(event)
    }
}
