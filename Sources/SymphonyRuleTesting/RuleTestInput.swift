import SymphonyEvents

/// One input of a rule test: an event as written, or a raw line read by the rule set's `lines:`
/// parser for its type (as `symphony run --lines TYPE` reads it).
public enum RuleTestInput: Sendable {
    /// An event; its time is the test's start plus its offset.
    case event(Event)
    /// A raw line of `type`, read at `time` (a syslog time's year comes from it; a time the
    /// line itself carries wins, as in a run).
    case line(type: String, text: String, id: String, time: Timestamp)

    /// When the input happens on the test's virtual clock, before any time the line carries.
    var time: Timestamp {
        switch self {
        case .event(let event): event.time
        case .line(_, _, _, let time): time
        }
    }
}
