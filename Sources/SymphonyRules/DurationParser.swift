import SymphonyEvents
/// Durations as rule files write them: `500ms`, `30s`, `5m`, `24h`, `2d`, or combinations such as `1h30m`.
public enum DurationParser {
    /// The duration `text` names, or nil when it is not one.
    public static func parse(_ text: String) -> Duration? {
        let scalars = Array(text.trimmingSpaces.unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        var total: Duration = .zero
        var index = 0
        while index < scalars.count {
            var digits = 0
            var value: Int64 = 0
            while index < scalars.count, let digit = scalars[index].properties.numericType == .decimal ? Int64(String(scalars[index])) : nil {
                let (scaled, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = scaled.addingReportingOverflow(digit)
                if overflow1 || overflow2 { return nil }
                value = sum
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            var unit = ""
            while index < scalars.count, ("a"..."z").contains(scalars[index]) {
                unit.unicodeScalars.append(scalars[index])
                index += 1
            }
            let millisecondsPerUnit: Int64
            switch unit {
            case "ms": millisecondsPerUnit = 1
            case "s": millisecondsPerUnit = 1_000
            case "m": millisecondsPerUnit = 60_000
            case "h": millisecondsPerUnit = 3_600_000
            case "d": millisecondsPerUnit = 86_400_000
            default: return nil
            }
            // Each part is checked before it is scaled, and the sum after each part, so no value
            // a rule can write overflows (`Duration` arithmetic traps on overflow).
            guard value <= maximumMilliseconds / millisecondsPerUnit else { return nil }
            total += .milliseconds(value * millisecondsPerUnit)
            guard total <= maximum else { return nil }
        }
        return total
    }

    /// The longest duration a rule may write: 100 years (36500d).
    public static var maximum: Duration { .milliseconds(maximumMilliseconds) }
    private static let maximumMilliseconds: Int64 = 36_500 * 86_400_000

    /// The message for a duration that does not parse.
    public static func problem(_ text: String) -> String {
        "invalid duration '\(text)': write a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 24h or 1h30m, of at most 36500d"
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars = scalars.dropFirst() }
        while scalars.last == " " { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

extension DurationParser {
    /// `duration` as rule files write it: in its largest whole unit (`10m`, `2d`, `90s`, `500ms`),
    /// else in parts (`28d3h29m4s`, `1s250ms`); a negative one with a `-`.
    public static func text(_ duration: Duration) -> String {
        let total = duration.nanoseconds
        if total < 0 { return "-" + text(.nanoseconds(total == .min ? .max : -total)) }
        let milliseconds = total / 1_000_000
        let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]
        for (name, size) in units where milliseconds >= size && milliseconds % size == 0 { return "\(milliseconds / size)\(name)" }
        guard milliseconds >= 1_000 else { return "\(milliseconds)ms" }
        var rest = milliseconds
        var parts = ""
        for (name, size) in units + [("ms", 1)] where rest >= size {
            parts += "\(rest / size)\(name)"
            rest %= size
        }
        return parts
    }
}
