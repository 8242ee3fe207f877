import SymphonyDiagnostics

/// An intent as written in YAML: regex patterns and keywords with weights, optional required and
/// excluded words, a threshold, and how words match (stemming language). Weights and thresholds are kept in thousandths so that
/// scores add up exactly (see docs/reference/intents.md).
public struct IntentDefinition: Sendable, Hashable {
    /// A PCRE2 pattern and its weight.
    public struct Pattern: Sendable, Hashable {
        /// The pattern as written.
        public var regex: String
        /// Weight in thousandths (0.6 → 600).
        public var weight: Int
        /// Where the pattern's text starts in its file.
        public var location: SourceLocation?

        /// A pattern with a weight in thousandths.
        public init(regex: String, weight: Int, location: SourceLocation? = nil) {
            self.regex = regex
            self.weight = weight
            self.location = location
        }
    }

    /// A keyword (a word or a phrase of words) and its weight.
    public struct Keyword: Sendable, Hashable {
        /// The keyword as written; a leading `=` means "this exact form" (no stemming), and `@name`
        /// any word or phrase of the lexicon `name`.
        public var text: String
        /// Weight in thousandths.
        public var weight: Int
        /// Where it is in its file.
        public var location: SourceLocation?

        /// A keyword with a weight in thousandths.
        public init(text: String, weight: Int, location: SourceLocation? = nil) {
            self.text = text
            self.weight = weight
            self.location = location
        }
    }

    /// The default pattern weight, 0.6.
    public static let defaultPatternWeight = 600
    /// The default keyword weight, 0.3.
    public static let defaultKeywordWeight = 300
    /// The default threshold, 0.5.
    public static let defaultThreshold = 500
    /// The default stemming language.
    public static let defaultLanguage = "english"

    /// The intent's unique name.
    public var name: String
    /// Regex patterns; named capture groups become slots.
    public var patterns: [Pattern]
    /// Keywords and phrases, matched as whole words, case-insensitively (and by stem when `stemming` is on).
    public var keywords: [Keyword]
    /// Words or phrases that must all appear for the intent to be recognized (matched as keywords are).
    public var require: [String]
    /// Words or phrases none of which may appear (matched as keywords are).
    public var exclude: [String]
    /// The Snowball language (`Stemmer.languages`) whose stems keywords, `require` and `exclude` match by.
    public var language: String
    /// True when words match every inflected form with the same stem; false for exact forms only.
    public var stemming: Bool
    /// True when keyword words of `TypoIndex.minimumLength` (5) or more characters also match with one typo.
    public var typos: Bool
    /// The word lists its `@name` keywords, `require` and `exclude` entries stand for, by name
    /// (the rule set's `lexicons:` that the intent uses).
    public var lexicons: [String: [String]]
    /// The lowest score (thousandths) at which the intent is recognized.
    public var threshold: Int
    /// True when patterns are matched case-sensitively (the default is case-insensitive).
    public var caseSensitive: Bool
    /// Where the intent is defined.
    public var location: SourceLocation?

    /// An intent definition.
    public init(
        name: String, patterns: [Pattern] = [], keywords: [Keyword] = [], require: [String] = [], exclude: [String] = [],
        threshold: Int = IntentDefinition.defaultThreshold, caseSensitive: Bool = false,
        language: String = IntentDefinition.defaultLanguage, stemming: Bool = true, typos: Bool = false, lexicons: [String: [String]] = [:],
        location: SourceLocation? = nil
    ) {
        self.name = name
        self.patterns = patterns
        self.keywords = keywords
        self.require = require
        self.exclude = exclude
        self.threshold = threshold
        self.caseSensitive = caseSensitive
        self.language = language
        self.stemming = stemming
        self.typos = typos
        self.lexicons = lexicons
        self.location = location
    }
}
