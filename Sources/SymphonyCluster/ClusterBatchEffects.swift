import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEngine
import SymphonyEvents

/// The effects of the actions run on one claimed batch, held until the batch commits: derived
/// events to handle next, delayed events to store, events emitted and audit messages to show.
/// One per worker (its engine's effects); `take()` empties it.
final class ClusterBatchEffects: ActionEffects {
    struct Held {
        /// Derived events published, not sealed: the worker handles them in the same transaction.
        var published: [Event] = []
        var scheduled: [(entry: ScheduledEntry, sealed: SealedEvent)] = []
        var emitted: [Event] = []
        var audits: [(rule: String, message: String)] = []
    }

    private let sealer: EnvelopeSealer
    private let held = Locked(Held())

    init(sealer: EnvelopeSealer) {
        self.sealer = sealer
    }

    /// What the batch's actions asked for so far; the holder starts empty again.
    func take() -> Held {
        held.withLock { held in
            defer { held = Held() }
            return held
        }
    }

    func publish(_ event: Event) throws -> SealedEvent? {
        held.withLock { $0.published.append(event) }
        return nil
    }

    func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent? {
        let sealed = try SealedEvent(sealing: event, with: sealer)
        let entry = ScheduledEntry(id: ScheduleID(rawValue: "s-" + EventIDGenerator.shared.next()), event: event, due: due, sealed: sealed)
        held.withLock { $0.scheduled.append((entry, sealed)) }
        return sealed
    }

    func audit(rule: String, event: Event, message: String) throws {
        held.withLock { $0.audits.append((rule, message)) }
    }

    func emit(_ event: Event) throws {
        held.withLock { $0.emitted.append(event) }
    }
}
