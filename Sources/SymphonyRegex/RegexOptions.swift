/// Compile options for a `RegularExpression`. UTF-8 and Unicode properties (`\w`, `\b`, `\d` and
/// caseless matching for accented and non-Latin letters) are always on.
public struct RegexOptions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Letters match regardless of case (Unicode case folding).
    public static let caseInsensitive = RegexOptions(rawValue: 1 << 0)
    /// `^` and `$` match at line starts and ends.
    public static let multiline = RegexOptions(rawValue: 1 << 1)
    /// `.` also matches newlines.
    public static let dotMatchesNewlines = RegexOptions(rawValue: 1 << 2)
}

/// How much work one match may do before it is stopped and reported instead of hanging.
public struct MatchLimits: Sendable, Hashable {
    /// PCRE2's match limit: the number of internal match steps (backtracking points) allowed.
    public var matchLimit: UInt32
    /// PCRE2's depth limit (heap used for backtracking by the interpreter; JIT ignores it).
    public var depthLimit: UInt32

    /// Limits that stop `(a+)+$` on 40 `a`s and a `b` within a few milliseconds while leaving
    /// room for ordinary patterns on texts of many kilobytes.
    public static let `default` = MatchLimits(matchLimit: 200_000, depthLimit: 10_000)

    /// Limits from explicit values.
    public init(matchLimit: UInt32, depthLimit: UInt32) {
        self.matchLimit = matchLimit
        self.depthLimit = depthLimit
    }
}

/// One match: the whole range and the capture groups, by number and by name.
public struct RegexMatch: Sendable, Hashable {
    /// The matched text.
    public let text: String
    /// The match's byte range in the subject's UTF-8.
    public let utf8Range: Range<Int>
    /// Capture groups 1…n in order; nil where a group did not take part.
    public let groups: [String?]
    /// Named capture groups that took part in the match.
    public let namedGroups: [String: String]
}
