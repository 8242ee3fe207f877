import SymphonyEngine
import SymphonyEvents

/// Side effects of a `symphony run`: into the event system and onto standard output.
struct SystemEffects: ActionEffects {
    let system: EventSystem
    /// Where emitted events go; nil when outcomes are printed instead (ndjson).
    let output: OutputLines?

    func publish(_ event: Event) throws -> SealedEvent? {
        try system.publish(event, fromHandler: true)
    }

    func schedule(_ event: Event, at due: Timestamp) throws {
        try system.schedule(event, at: due)
    }

    func audit(rule: String, event: Event, message: String) throws {
        // Nothing to do here: the action's outcome carries the message, and the handler appends it to the audit trail.
    }

    func emit(_ event: Event) throws {
        output?.write(EventJSON.text(event))
    }
}
