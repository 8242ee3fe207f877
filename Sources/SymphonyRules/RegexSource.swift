import SymphonyDiagnostics
import SymphonyRegex

/// One regex of a rule set as written and as compiled, for the static checks.
public struct RegexSource: Sendable {
    /// Where the regex is used.
    public enum Kind: Sendable, Hashable {
        /// A `matches` condition.
        case condition
        /// A named pattern (`patterns:`), by name: a fragment that other regexes include.
        case fragment(String)
        /// A line parser's `match`, by the event type it produces.
        case lineParser(String)
    }

    /// The regex as written (with its `%{…}` references).
    public let source: String
    /// The regex compiled, `%{…}` expanded.
    public let regex: RegularExpression
    /// Where the regex is used.
    public let kind: Kind
    /// Where it is written.
    public let location: SourceLocation?

    /// A regex of the rule set.
    public init(source: String, regex: RegularExpression, kind: Kind, location: SourceLocation?) {
        self.source = source
        self.regex = regex
        self.kind = kind
        self.location = location
    }
}
