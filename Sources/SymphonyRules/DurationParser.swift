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
            let part: Duration
            switch unit {
            case "ms": part = .milliseconds(value)
            case "s": part = .seconds(value)
            case "m": part = .seconds(value) * 60
            case "h": part = .seconds(value) * 3600
            case "d": part = .seconds(value) * 86_400
            default: return nil
            }
            total += part
        }
        return total
    }

    /// The message for a duration that does not parse.
    public static func problem(_ text: String) -> String {
        "invalid duration '\(text)': write a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 24h or 1h30m"
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
