/// Finds a literal that every match of a pattern must contain, so a cheap scan can rule the pattern out.
///
/// The analysis is deliberately conservative: it looks only at the pattern's top level (groups,
/// character classes and escapes end a literal run), only at ASCII letters, digits, spaces, `_`
/// and `-`, and gives up on anything it does not fully understand (top-level alternation, `\Q…\E`,
/// extended mode, comments). A character followed by `?`, `*` or `{` is optional and dropped.
/// Returns the longest run of at least `minimumLength` characters, lowercased, or nil.
public enum RequiredLiteral {
    /// The shortest literal worth using.
    public static let minimumLength = 3

    /// The required literal of `pattern`, lowercased, or nil when none can be proven.
    public static func extract(from pattern: String) -> String? {
        extractAll(from: pattern).max { $0.count < $1.count }
    }

    /// Every literal run of `pattern` that each match must contain (all of them, not just one), lowercased, longest first.
    public static func extractAll(from pattern: String) -> [String] {
        guard let runs = runs(in: pattern) else { return [] }
        var seen = Set<String>()
        return runs.filter { seen.insert($0).inserted }.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    /// For a pattern with no required literal run: the alternatives of a top-level group that
    /// every match must pass through and that holds nothing but `|`-separated literal runs of at
    /// least `minimumLength` characters (`(?:upgrade|downgrade|switch)`, `(?<plan>basic|team)`), so
    /// every match contains one of them; lowercased and sorted. Of several such groups, the one
    /// whose shortest alternative is longest. Nil when there is none, or when the pattern is one
    /// the analysis gives up on (as `extractAll`), or the group may be skipped (`?`, `*` or `{…}` after it).
    public static func requiredAlternatives(in pattern: String) -> [String]? {
        let scalars = Array(pattern.unicodeScalars)
        if unanalysable(scalars) { return nil }
        var best: [String]?
        var index = 0
        while index < scalars.count {
            switch scalars[index] {
            case "|":
                return nil  // top-level alternation: no group is required
            case "\\":
                index = endOfEscape(scalars, at: index)
            case "[":
                guard let end = closingBracket(scalars, from: index) else { return nil }
                index = end + 1
            case "(":
                guard let end = closingParenthesis(scalars, from: index) else { return nil }
                let next = end + 1 < scalars.count ? scalars[end + 1] : nil
                if next != "?" && next != "*" && next != "{", let alternatives = literalAlternatives(scalars[(index + 1)..<end]),
                    best.map({ shortest(alternatives) > shortest($0) }) ?? true
                {
                    best = alternatives
                }
                index = end + 1
            default:
                index += 1
            }
        }
        return best
    }

    private static func shortest(_ literals: [String]) -> Int { literals.map(\.count).min() ?? 0 }

    /// The alternatives of a group's body (what lies between its parentheses) when it is a plain
    /// capturing group, `(?:…)` or a named group, and holds only literal runs separated by `|`.
    private static func literalAlternatives(_ group: ArraySlice<Unicode.Scalar>) -> [String]? {
        var body = group
        if body.first == "?" {
            body = body.dropFirst()
            if body.first == ":" {
                body = body.dropFirst()
            } else {
                // A named group: (?<name>…), (?'name'…) or (?P<name>…). Assertions ((?<=, (?<!),
                // back references and calls ((?P=, (?P>) and every other kind are not.
                if body.first == "P" { body = body.dropFirst() }
                guard let open = body.first, open == "<" || open == "'" else { return nil }
                body = body.dropFirst()
                guard let first = body.first, first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first),
                    let close = body.firstIndex(of: open == "<" ? ">" : "'"),
                    body[..<close].allSatisfy({ isASCIIAlphanumeric($0) || $0 == "_" })
                else { return nil }
                body = body[(close + 1)...]
            }
        }
        let alternatives = body.split(separator: "|", omittingEmptySubsequences: false)
        guard alternatives.allSatisfy({ $0.count >= minimumLength && $0.allSatisfy(isLiteralCharacter) }) else { return nil }
        return Set(alternatives.map { String(String.UnicodeScalarView($0)).lowercased() }).sorted()
    }

    /// Patterns the analysis does not read: quoting, comments, callouts (whose text may hold any
    /// character), `(*ACCEPT)` (a match may end before the rest of the pattern) and extended mode
    /// (spaces are not literal).
    private static func unanalysable(_ scalars: [Unicode.Scalar]) -> Bool {
        contains(scalars, "\\Q") || contains(scalars, "\\E") || contains(scalars, "(?#") || contains(scalars, "(?C") || contains(scalars, "(*ACCEPT")
            || usesExtendedMode(scalars)
    }

    private static func runs(in pattern: String) -> [String]? {
        let scalars = Array(pattern.unicodeScalars)
        if unanalysable(scalars) { return nil }
        var runs: [String] = []
        var run: [Unicode.Scalar] = []
        func endRun() {
            if run.count >= minimumLength { runs.append(String(String.UnicodeScalarView(run)).lowercased()) }
            run = []
        }
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "|":
                return nil  // top-level alternation: no single literal is required
            case "(":
                endRun()
                guard let end = closingParenthesis(scalars, from: index) else { return nil }
                index = end + 1
                continue
            case "[":
                endRun()
                guard let end = closingBracket(scalars, from: index) else { return nil }
                index = end + 1
                continue
            case "\\":
                guard index + 1 < scalars.count else { return nil }
                let next = scalars[index + 1]
                if isLiteralCharacter(next) && !isASCIIAlphanumeric(next) {
                    run.append(next)
                    index += 2
                    continue
                }
                endRun()
                index = endOfEscape(scalars, at: index)
                continue
            case "{":
                guard let end = quantifierEnd(scalars, at: index) else {
                    // A literal '{' (not quantifier syntax): not a literal character we track.
                    endRun()
                    index += 1
                    continue
                }
                // The previous character is repeated a number of times that may be zero.
                if !run.isEmpty { run.removeLast() }
                endRun()
                index = end + 1
                continue
            case "?", "*":
                // The previous character is optional or repeated an unknown number of times.
                if !run.isEmpty { run.removeLast() }
                endRun()
                index += 1
                continue
            case "+":
                endRun()
                index += 1
                continue
            default:
                if isLiteralCharacter(scalar) {
                    run.append(scalar)
                } else {
                    endRun()
                }
                index += 1
            }
        }
        endRun()
        return runs
    }

    private static func contains(_ scalars: [Unicode.Scalar], _ text: String) -> Bool {
        let needle = Array(text.unicodeScalars)
        guard scalars.count >= needle.count else { return false }
        for start in 0...(scalars.count - needle.count) where Array(scalars[start..<start + needle.count]) == needle { return true }
        return false
    }

    /// The index just past the escape starting with the backslash at `index`, its argument included
    /// (`\x41`, `\x{41}`, `\o{101}`, `\cJ`, `\pL`, `\p{Lu}`, `\g1`, `\g{-1}`, `\k<name>`, `\N{U+41}`, `\12`).
    static func endOfEscape(_ scalars: [Unicode.Scalar], at index: Int) -> Int {
        var cursor = index + 2
        guard index + 1 < scalars.count else { return cursor }
        func skipDelimited() -> Bool {
            guard cursor < scalars.count else { return false }
            let close: Unicode.Scalar
            switch scalars[cursor] {
            case "{": close = "}"
            case "<": close = ">"
            case "'": close = "'"
            default: return false
            }
            var end = cursor + 1
            while end < scalars.count && scalars[end] != close { end += 1 }
            cursor = min(end + 1, scalars.count)
            return true
        }
        func isHex(_ scalar: Unicode.Scalar) -> Bool {
            ("0"..."9").contains(scalar) || ("a"..."f").contains(scalar) || ("A"..."F").contains(scalar)
        }
        switch scalars[index + 1] {
        case "x":
            if !skipDelimited() {
                var digits = 0
                while digits < 2, cursor < scalars.count, isHex(scalars[cursor]) {
                    cursor += 1
                    digits += 1
                }
            }
        case "o", "N": _ = skipDelimited()
        case "c": cursor = min(cursor + 1, scalars.count)
        case "p", "P": if !skipDelimited() { cursor = min(cursor + 1, scalars.count) }
        case "g":
            if !skipDelimited() {
                if cursor < scalars.count, scalars[cursor] == "+" || scalars[cursor] == "-" { cursor += 1 }
                while cursor < scalars.count, ("0"..."9").contains(scalars[cursor]) { cursor += 1 }
            }
        case "k": _ = skipDelimited()
        case "0"..."9":
            while cursor < scalars.count, ("0"..."9").contains(scalars[cursor]) { cursor += 1 }
        default: break
        }
        return cursor
    }

    /// The index of the `}` closing a quantifier `{n}`, `{n,}`, `{n,m}` or `{,m}` starting at `index`, or nil when it is a literal `{`.
    static func quantifierEnd(_ scalars: [Unicode.Scalar], at index: Int) -> Int? {
        var cursor = index + 1
        var digits = 0
        var comma = false
        while cursor < scalars.count {
            let scalar = scalars[cursor]
            if ("0"..."9").contains(scalar) {
                digits += 1
            } else if scalar == "," && !comma {
                comma = true
            } else if scalar == "}" {
                return digits > 0 ? cursor : nil
            } else {
                return nil
            }
            cursor += 1
        }
        return nil
    }

    private static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    private static func isLiteralCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isASCIIAlphanumeric(scalar) || scalar == " " || scalar == "_" || scalar == "-"
    }

    /// True when the pattern switches on extended mode (`(?x)`, `(?ix:`, …), where spaces are not literal.
    private static func usesExtendedMode(_ scalars: [Unicode.Scalar]) -> Bool {
        var index = 0
        while index + 1 < scalars.count {
            if scalars[index] == "(" && scalars[index + 1] == "?" {
                var cursor = index + 2
                while cursor < scalars.count, scalars[cursor].properties.isAlphabetic || scalars[cursor] == "-" || scalars[cursor] == "^" {
                    if scalars[cursor] == "x" { return true }
                    cursor += 1
                }
            }
            index += 1
        }
        return false
    }

    private static func closingParenthesis(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < scalars.count {
            switch scalars[index] {
            case "\\": index = endOfEscape(scalars, at: index) - 1  // an escape's argument may be ')' (`\c)`)
            case "[":
                guard let end = closingBracket(scalars, from: index) else { return nil }
                index = end
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
            index += 1
        }
        return nil
    }

    /// The index of the `]` closing the character class that starts at `start`, or nil when it is not closed.
    public static func closingBracket(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start + 1
        if index < scalars.count && scalars[index] == "^" { index += 1 }
        if index < scalars.count && scalars[index] == "]" { index += 1 }  // a leading ']' is literal
        while index < scalars.count {
            switch scalars[index] {
            case "\\": index = endOfEscape(scalars, at: index) - 1  // an escape's argument may be ']' (`\c]`)
            case "[":
                if index + 1 < scalars.count && scalars[index + 1] == ":" {
                    // POSIX class [:alpha:]
                    var cursor = index + 2
                    while cursor + 1 < scalars.count && !(scalars[cursor] == ":" && scalars[cursor + 1] == "]") { cursor += 1 }
                    index = cursor + 1
                }
            case "]": return index
            default: break
            }
            index += 1
        }
        return nil
    }
}
