import SymphonyEvents
import SymphonyJSON
import SymphonyRecords

/// Something that happened in a rule test's dry run: an event was handled (`rule` nil), a rule
/// fired (`action` nil), or one of its actions ran (or failed: `error`).
public struct RuleTestObservation: Sendable {
    /// The rule; nil when this is an event being handled (input, published or come due).
    public let rule: String?
    /// The action's kind; nil for the firing itself.
    public let action: ActionKind?
    /// When, on the test's virtual clock.
    public let at: Timestamp
    /// The event handled, or the one the rule fired on.
    public let trigger: Event
    /// The event the action made (publish, delay, emit).
    public let derived: Event?
    /// When a delayed event is due.
    public let due: Timestamp?
    /// The audit message (or what a cancel or keyed delay did).
    public let message: String?
    /// Why the action failed, when it did.
    public let error: String?

    /// One line for a report, times as offsets from `start`.
    func line(start: Timestamp) -> String {
        let time = "+\(Self.offset(start.duration(to: at)))"
        guard let rule else { return "\(time) \(trigger.type) \(trigger.id) \(trigger.payload.jsonText)" }
        var text = "\(time) \(trigger.type) → \(rule)"
        guard let action else { return text + " fired" }
        text += " \(action.name)"
        if let derived { text += " \(derived.type) \(derived.payload.jsonText)" }
        if let due { text += " due +\(Self.offset(start.duration(to: due)))" }
        if let message { text += " \"\(message)\"" }
        if let error { text += " FAILED: \(error)" }
        return text
    }

    /// A duration the way rule files write them: `0s`, `90s`, `5m`, `2h30m`, `2d`, `1.5s`.
    static func offset(_ duration: Duration) -> String {
        let nanoseconds = duration.nanoseconds
        guard nanoseconds != 0 else { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        var rest = nanoseconds.magnitude
        let second: UInt64 = 1_000_000_000
        guard rest % second == 0 else { return sign + String(Double(rest) / Double(second)) + "s" }
        rest /= second
        var text = ""
        for (unit, size) in [("d", UInt64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return sign + text
    }
}
