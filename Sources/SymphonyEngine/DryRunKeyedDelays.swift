import SymphonyConcurrency
import SymphonyEvents

/// The keyed delays of a dry run that have not fired yet, across the events it traces: on its
/// virtual clock they fire in the trace of the first input event at or after their due time, or
/// when the dry run ends; `cancel:` and `unless:` remove them before that.
final class DryRunKeyedDelays: Sendable {
    struct Pending: Sendable {
        let event: Event
        let due: Timestamp
        let rule: String
    }

    private let pending = Locked<[String: Pending]>([:])

    /// Adds `event` under `key` (by `whenPending`); returns what it replaced or, with `.keep`, the pending one kept.
    func schedule(_ event: Event, due: Timestamp, key: String, rule: String, whenPending: Scheduler.WhenPending) -> (replaced: Event?, kept: Event?) {
        pending.withLock { pending in
            if let existing = pending[key] {
                if whenPending == .keep { return (nil, existing.event) }
                pending[key] = Pending(event: event, due: due, rule: rule)
                return (existing.event, nil)
            }
            pending[key] = Pending(event: event, due: due, rule: rule)
            return (nil, nil)
        }
    }

    /// Removes the pending delay of `key` (made by `rule`, when given, and not derived from `sparing`); returns its event.
    func cancel(key: String, madeBy rule: String?, sparing parentID: String? = nil) -> Event? {
        pending.withLock { pending in
            guard let existing = pending[key], rule == nil || existing.rule == rule,
                parentID == nil || existing.event.causation?.parentID != parentID
            else { return nil }
            pending[key] = nil
            return existing.event
        }
    }

    /// Removes and returns the delays due at or before `time` (all of them when nil), earliest first.
    func takeDue(upTo time: Timestamp?) -> [Pending] {
        pending.withLock { pending in
            let due = pending.filter { time == nil || $0.value.due <= time! }
            for key in due.keys { pending[key] = nil }
            return due.values.sorted { ($0.due, $0.event.id) < ($1.due, $1.event.id) }
        }
    }
}
