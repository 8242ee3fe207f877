import SymphonyEvents

/// How a line parser reads a time out of a captured field.
///
/// - `rfc3339`: `2026-12-10T06:55:46Z`, `2026-12-10 06:55:46.250+01:00`.
/// - `syslog`: `Dec 10 06:55:46`, in UTC. The year is not written: it is the reading time's
///   year, or the year before when that would put the time more than a day after the reading
///   time (so December lines read in January land in December of the year before).
/// - `epoch`: seconds since 1970, with an optional fraction (`1765349746.25`).
/// - `epoch_ms`: milliseconds since 1970.
/// - `strftime`: a format such as `%d/%b/%Y:%H:%M:%S %z` (`StrftimeParser`; no offset means UTC;
///   without a year, the year is inferred as for `syslog`).
public enum TimeFormat: Sendable, Hashable {
    case rfc3339
    case syslog
    case epochSeconds
    case epochMilliseconds
    case strftime(String)

    /// The format a rule file names: `rfc3339`, `syslog`, `epoch`, `epoch_ms`, or a strftime-style format (it has a `%`).
    public init?(name: String) {
        switch name {
        case "rfc3339": self = .rfc3339
        case "syslog": self = .syslog
        case "epoch": self = .epochSeconds
        case "epoch_ms": self = .epochMilliseconds
        default:
            guard name.contains("%") else { return nil }
            self = .strftime(name)
        }
    }

    /// The names `init(name:)` accepts besides strftime formats.
    public static let names = ["rfc3339", "syslog", "epoch", "epoch_ms"]

    /// The time `text` gives in this format, or nil; `reference` (the reading time) supplies a syslog time's year.
    public func parse(_ text: String, reference: Timestamp) -> Timestamp? {
        switch self {
        case .rfc3339:
            return TimestampParser.parse(text)
        case .epochSeconds:
            // Decimal digits only, the fraction read exactly (no binary floating point), within what a timestamp holds.
            return StrftimeParser.parse(text, format: text.contains(".") ? "%s.%f" : "%s")
        case .epochMilliseconds:
            guard let milliseconds = Int64(text) else { return nil }
            let (nanoseconds, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
            return overflow ? nil : Timestamp(nanosecondsSinceEpoch: nanoseconds)
        case .syslog:
            return Self.inferringYear(text, format: "%b %e %T", reference: reference)
        case .strftime(let format):
            return !StrftimeParser.usedDirectives(in: format).isDisjoint(with: "YysF")
                ? StrftimeParser.parse(text, format: format) : Self.inferringYear(text, format: format, reference: reference)
        }
    }

    /// A time written without its year: the latest of next year, this year and last year (the
    /// reading time's) that is not more than a day after the reading time — so December lines
    /// read in January land in the year before, and a log a little ahead of the clock (Jan 1
    /// 00:30 read on Dec 31 at 23:00) in the year after.
    private static func inferringYear(_ text: String, format: String, reference: Timestamp) -> Timestamp? {
        let year = Self.year(of: reference)
        for candidateYear in [year + 1, year, year - 1] {
            guard let time = StrftimeParser.parse(text, format: format, defaultYear: candidateYear) else { continue }
            if time.nanosecondsSinceEpoch <= reference.nanosecondsSinceEpoch + 86_400 * 1_000_000_000 { return time }
        }
        return nil
    }

    /// The UTC calendar year `time` falls in.
    private static func year(of time: Timestamp) -> Int {
        let days = Int(time.nanosecondsSinceEpoch / 1_000_000_000 / 86_400) - (time.nanosecondsSinceEpoch < 0 ? 1 : 0)
        var year = 1970 + days / 366
        while StrftimeParser.daysFromCivil(year: year + 1, month: 1, day: 1) <= days { year += 1 }
        return year
    }
}

extension TimeFormat {
    /// The format as rule files write it.
    public var name: String {
        switch self {
        case .rfc3339: "rfc3339"
        case .syslog: "syslog"
        case .epochSeconds: "epoch"
        case .epochMilliseconds: "epoch_ms"
        case .strftime(let format): "'\(format)'"
        }
    }
}
