import SymphonyDiagnostics
import SymphonyIntents
import SymphonyRegex

/// The regex checks: patterns that match every text, patterns that backtrack catastrophically
/// (found by running PCRE2 on attack texts, `BacktrackingAttack`), and intent patterns without a
/// literal for the pre-filter.
extension StaticChecks {
    /// Named patterns, line parsers and `matches` conditions.
    static func checkRegexes(_ sources: [RegexSource], into diagnostics: inout Diagnostics) {
        // Named patterns come first: one that backtracks is reported where it is defined, not again where it is used.
        var slowFragments: [String] = []
        for item in sources {
            if case .fragment(let name) = item.kind {
                // A fragment is a piece: an optional one (`(?::\d+)?`) is normal, so only backtracking is
                // checked, with the fragment followed by the end of the text, where a use of it can fail.
                if let inContext = try? RegularExpression("(?:" + item.regex.pattern + ")\\z", options: item.regex.options),
                    let attack = BacktrackingAttack.find(for: inContext)
                {
                    slowFragments.append(name)
                    diagnostics.warning(at: item.location, backtrackingWarning("named pattern '\(name)' ('\(item.source)')", attack))
                }
                continue
            }
            if item.regex.matchesEveryText {
                diagnostics.warning(at: item.location, everyTextWarning(item))
                continue
            }
            if slowFragments.contains(where: { item.source.contains("%{\($0)}") || item.source.contains("%{\($0):") }) { continue }
            if let attack = BacktrackingAttack.find(for: item.regex) {
                diagnostics.warning(at: item.location, backtrackingWarning("regex '\(item.source)'", attack))
            }
        }
    }

    /// Intent patterns, compiled as the recognizer compiles them.
    static func checkIntentPatterns(_ definitions: [IntentDefinition], into diagnostics: inout Diagnostics) {
        for intent in definitions {
            for pattern in intent.patterns {
                guard let regex = try? RegularExpression(pattern.regex, options: intent.caseSensitive ? [] : [.caseInsensitive]) else { continue }
                let subject = "intent '\(intent.name)' pattern '\(pattern.regex)'"
                if regex.matchesEveryText {
                    diagnostics.warning(
                        at: pattern.location,
                        "\(subject) can match the empty string, so it matches every text and adds its weight to every text's score; "
                            + "make some part of it required (a '+' instead of a '*', no '?' after the whole group)")
                    continue
                }
                if RequiredLiteral.extractAll(from: pattern.regex).isEmpty && RequiredLiteral.requiredAlternatives(in: pattern.regex) == nil {
                    diagnostics.advisory(at: pattern.location, noLiteralWarning(subject, pattern.regex))
                }
                if let attack = BacktrackingAttack.find(for: regex) {
                    diagnostics.warning(at: pattern.location, backtrackingWarning(subject, attack))
                }
            }
        }
    }

    static func everyTextWarning(_ item: RegexSource) -> String {
        let consequence: String
        switch item.kind {
        case .lineParser(let type): consequence = "every line, blank ones included, becomes an event of type '\(type)'"
        default: consequence = "the condition holds for any value of the field"
        }
        return "regex '\(item.source)' can match the empty string, so it matches every text: \(consequence); "
            + "make some part of it required (a '+' instead of a '*', no '?' after the whole group), or write '^$' to test for an empty value"
    }

    static func noLiteralWarning(_ subject: String, _ regex: String) -> String {
        let fix =
            hasTopLevelAlternation(regex)
            ? "split its top-level alternatives into separate patterns, each with a word of its own"
            : "add a word of at least 3 ASCII letters or digits that every match must contain, outside groups, classes and alternation, "
                + "or a group of such words one of which it must contain (e.g. '(?:cannot|can not|unable to)\\s+\\w+' rather than '(?:can ?not|unable to)\\s+\\w+')"
        let script =
            regex.unicodeScalars.contains { !$0.isASCII && $0.properties.isAlphabetic }
            ? "; the pre-filter reads ASCII literals only, so a word in another script is better a keyword" : ""
        return "\(subject) has no literal for the pre-filter, so it runs on every text instead of only on texts containing its word "
            + "(with 1,000 intents, such patterns cost about 3.4 ms per text against 35 µs when pre-filtered); \(fix)\(script)"
    }

    static func backtrackingWarning(_ subject: String, _ attack: BacktrackingAttack) -> String {
        let count = attack.text.unicodeScalars.count
        let part = attack.repetition.map { "its repetition '\($0)' can match the same text in many ways; " } ?? ""
        return "\(subject) backtracks catastrophically: on the \(count)-character text \(display(attack.text)) PCRE2 stops at the match limit, "
            + "and such a match counts as no match; \(part)make what repeats unambiguous (e.g. '(?:\\S+\\s)*' rather than '(\\w+\\s?)*', "
            + "'a+' rather than '(a|aa)+'), or make it possessive or atomic ('++', '*+', '(?>…)')"
    }

    /// A text quoted for a message: control characters escaped, long texts shortened in the middle.
    static func display(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        if scalars.count > 40 { scalars = Array(scalars.prefix(28)) + ["…"] + Array(scalars.suffix(8)) }
        var shown = ""
        for scalar in scalars {
            switch scalar {
            case "\n": shown += "\\n"
            case "\t": shown += "\\t"
            case "'": shown += "\\'"
            case _ where scalar.value < 0x20: shown += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: shown.unicodeScalars.append(scalar)
            }
        }
        return "'\(shown)'"
    }

    /// True when `regex` has a `|` outside every group and class.
    static func hasTopLevelAlternation(_ regex: String) -> Bool {
        let scalars = Array(regex.unicodeScalars)
        var depth = 0
        var index = 0
        while index < scalars.count {
            switch scalars[index] {
            case "\\": index += 1
            case "[":
                if let end = RequiredLiteral.closingBracket(scalars, from: index) { index = end }
            case "(": depth += 1
            case ")": depth -= 1
            case "|" where depth == 0: return true
            default: break
            }
            index += 1
        }
        return false
    }
}
