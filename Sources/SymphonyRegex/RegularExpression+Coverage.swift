extension RegularExpression {
    /// Unrelated texts: a pattern that matches all of them (and the empty text) matches anything.
    static let unrelatedTexts = ["", "x", "Z", "0", " ", "-", "é", "\n", "!"]

    /// True when the pattern matches the empty text and a handful of unrelated one-character
    /// texts: it can match the empty string wherever it is tried, so it matches every text
    /// (`a*`, `(?:error)?`, `x|`, `^`, `\s*$`). Patterns that match only the empty text or only
    /// blank texts (`^$`, `^\s*$`) are not such patterns. PCRE2 decides each match.
    public var matchesEveryText: Bool {
        Self.unrelatedTexts.allSatisfy { (try? matches($0)) == true }
    }
}
