import SymphonyEvents

/// Reads a time written in a strftime-style format, the subset logs use, independent of locale:
///
/// `%Y` year, `%y` two-digit year (69–99 → 19xx, else 20xx), `%m` month, `%b`/`%h` English month
/// abbreviation, `%B` English month name, `%d`/`%e` day (`%e` may be space-padded), `%H` hour,
/// `%M` minute, `%S` second (a leap second, 60, reads as 59), `%f` fraction of a second (1–9 digits), `%z` offset (`+0100`,
/// `+01:00`, `Z`), `%T` = `%H:%M:%S`, `%F` = `%Y-%m-%d`, `%s` seconds since 1970, `%%` a `%`.
/// A space in the format matches one or more spaces; other characters match themselves. Without
/// `%z` the time is UTC. A field the format lacks defaults to its lowest value (year 1970).
public enum StrftimeParser {
    /// The directives understood, for messages.
    public static let directives = "%Y %y %m %b %h %B %d %e %H %M %S %f %z %T %F %s %%"

    /// The directive letters `format` uses (`%%` is no directive).
    public static func usedDirectives(in format: String) -> Set<Character> {
        var used: Set<Character> = []
        var characters = format.makeIterator()
        while let character = characters.next() {
            guard character == "%", let directive = characters.next() else { continue }
            if directive != "%" { used.insert(directive) }
        }
        return used
    }

    /// Nil when every directive in `format` is understood, else the first one that is not.
    public static func unsupportedDirective(in format: String) -> String? {
        var characters = format.makeIterator()
        while let character = characters.next() {
            guard character == "%" else { continue }
            guard let directive = characters.next() else { return "%" }
            if !"YymbhBdeHMSfzTFs%".contains(directive) { return "%\(directive)" }
        }
        return nil
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let monthNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
    ]

    /// The time `text` names in `format` (the whole text must be read), or nil.
    /// `defaultYear` applies when the format has no year.
    public static func parse(_ text: String, format: String, defaultYear: Int = 1970) -> Timestamp? {
        let input = Array(text.utf8)
        var position = 0
        var year = defaultYear, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0, offset = 0
        var epoch: Int64?
        var epochIsNegative = false  // "-1.5": the sign applies to the fraction too

        func digits(min: Int, max: Int, allowLeadingSpace: Bool = false) -> Int? {
            if allowLeadingSpace { while position < input.count && input[position] == 0x20 { position += 1 } }
            var value = 0
            var count = 0
            while count < max, position < input.count, input[position] >= 0x30, input[position] <= 0x39 {
                value = value * 10 + Int(input[position] - 0x30)
                position += 1
                count += 1
            }
            return count >= min ? value : nil
        }
        func word() -> String {
            var letters: [UInt8] = []
            while position < input.count, (input[position] | 0x20) >= 0x61, (input[position] | 0x20) <= 0x7A {
                letters.append(input[position] | 0x20)
                position += 1
            }
            return String(decoding: letters, as: UTF8.self)
        }
        func directive(_ code: Character) -> Bool {
            switch code {
            case "Y": guard let value = digits(min: 4, max: 4) else { return false }; year = value
            case "y": guard let value = digits(min: 2, max: 2) else { return false }; year = value >= 69 ? 1900 + value : 2000 + value
            case "m": guard let value = digits(min: 1, max: 2), (1...12).contains(value) else { return false }; month = value
            case "b", "h":
                guard let index = months.firstIndex(of: word()) else { return false }
                month = index + 1
            case "B":
                let name = word()
                guard let index = monthNames.firstIndex(of: name) ?? months.firstIndex(of: name) else { return false }
                month = index + 1
            case "d", "e": guard let value = digits(min: 1, max: 2, allowLeadingSpace: code == "e"), (1...31).contains(value) else { return false }; day = value
            case "H": guard let value = digits(min: 1, max: 2), value < 24 else { return false }; hour = value
            case "M": guard let value = digits(min: 1, max: 2), value < 60 else { return false }; minute = value
            case "S": guard let value = digits(min: 1, max: 2), value <= 60 else { return false }; second = min(value, 59)
            case "f":
                let start = position
                guard let value = digits(min: 1, max: 9) else { return false }
                var scaled = value
                for _ in (position - start)..<9 { scaled *= 10 }
                nanos = scaled
                while position < input.count, input[position] >= 0x30, input[position] <= 0x39 { position += 1 }  // beyond nanoseconds
            case "z":
                guard position < input.count else { return false }
                if input[position] == UInt8(ascii: "Z") {
                    position += 1
                    offset = 0
                } else {
                    guard input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") else { return false }
                    let sign = input[position] == UInt8(ascii: "-") ? -1 : 1
                    position += 1
                    guard let hours = digits(min: 2, max: 2) else { return false }
                    if position < input.count && input[position] == UInt8(ascii: ":") { position += 1 }
                    guard let minutes = digits(min: 2, max: 2), hours < 24, minutes < 60 else { return false }
                    offset = sign * (hours * 3600 + minutes * 60)
                }
            case "T": return directive("H") && literal(0x3A) && directive("M") && literal(0x3A) && directive("S")
            case "F": return directive("Y") && literal(0x2D) && directive("m") && literal(0x2D) && directive("d")
            case "s":
                var negative = false
                if position < input.count && input[position] == UInt8(ascii: "-") {
                    negative = true
                    position += 1
                }
                guard let value = digits(min: 1, max: 12) else { return false }
                epoch = Int64(negative ? -value : value)
                epochIsNegative = negative
            case "%": return literal(0x25)
            default: return false
            }
            return true
        }
        func literal(_ byte: UInt8) -> Bool {
            guard position < input.count, input[position] == byte else { return false }
            position += 1
            return true
        }

        var formatIterator = format.makeIterator()
        while let character = formatIterator.next() {
            if character == "%" {
                guard let code = formatIterator.next(), directive(code) else { return nil }
            } else if character == " " {
                guard position < input.count, input[position] == 0x20 else { return nil }
                while position < input.count && input[position] == 0x20 { position += 1 }
            } else {
                for byte in String(character).utf8 { guard literal(byte) else { return nil } }
            }
        }
        guard position == input.count else { return nil }
        if let epoch { return timestamp(seconds: epoch, nanoseconds: epochIsNegative ? -nanos : nanos) }
        guard (1...9999).contains(year), day <= daysIn(month: month, year: year) else { return nil }
        let seconds = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return timestamp(seconds: seconds, nanoseconds: nanos)
    }

    /// `seconds` and `nanoseconds` since 1970 as a timestamp, or nil beyond what one holds
    /// (nanoseconds in 64 bits: the years 1678 to 2261), so no time a log writes can trap.
    static func timestamp(seconds: Int64, nanoseconds: Int) -> Timestamp? {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflowAdding) = scaled.addingReportingOverflow(Int64(nanoseconds))
        return overflow || overflowAdding ? nil : Timestamp(nanosecondsSinceEpoch: total)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
