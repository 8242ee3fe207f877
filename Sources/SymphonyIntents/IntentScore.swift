import SymphonyRegex

/// Why an intent scored what it did: one fired pattern or keyword.
public struct Evidence: Sendable, Hashable {
    /// Which kind of signal fired.
    public enum Kind: String, Sendable, Hashable {
        case pattern
        case keyword
    }

    /// How a keyword's words were found in the text.
    public enum Form: String, Sendable, Hashable {
        /// As written (ignoring case); also every pattern.
        case exact
        /// Another inflected form with the same stem ("cancel" ← "cancelled").
        case stem
        /// Within one typo of the keyword ("refund" ← "refnud"), for intents with `typos: true`.
        case typo
    }

    /// Pattern or keyword.
    public let kind: Kind
    /// The pattern or keyword as written in the intent.
    public let source: String
    /// Its weight, in thousandths.
    public let weight: Int
    /// The text it matched, as written in the text.
    public let matched: String
    /// How a keyword matched; `.exact` for patterns.
    public let form: Form
    /// For a keyword `@name`, the word or phrase of lexicon `name` that matched; nil otherwise.
    public let lexiconEntry: String?

    /// One piece of evidence.
    public init(kind: Kind, source: String, weight: Int, matched: String, form: Form = .exact, lexiconEntry: String? = nil) {
        self.kind = kind
        self.source = source
        self.weight = weight
        self.matched = matched
        self.form = form
        self.lexiconEntry = lexiconEntry
    }

    /// How it reads in an explanation: `keyword 'cancel' ← cancelled +0.3`; the matched text is
    /// shown when a keyword matched another form than the one written, or a lexicon's entry, and
    /// `(typo)` follows a typo.
    public var summary: String {
        "\(kind.rawValue) '\(source)'" + (form == .exact && lexiconEntry == nil ? "" : " ← \(matched)") + (form == .typo ? " (typo)" : "") + " +\(Double(weight) / 1000)"
    }
}

/// An intent's score for one text, with everything needed to explain it.
public struct IntentScore: Sendable, Hashable {
    /// The intent's name.
    public let name: String
    /// min(1000, sum of the weights that fired), in thousandths.
    public let score: Int
    /// The intent's threshold, in thousandths.
    public let threshold: Int
    /// Named captures of the patterns that matched (the first pattern to capture a name wins).
    public let slots: [String: String]
    /// The patterns and keywords that fired, patterns first, each in definition order.
    public let evidence: [Evidence]
    /// `require` entries that did not appear.
    public let missingRequired: [String]
    /// `exclude` entries that did appear.
    public let presentExcluded: [String]

    /// True when something fired, every required entry appeared, no excluded entry did, and the score reached the threshold.
    public var isRecognized: Bool { isRecognized(threshold: threshold) }

    /// `isRecognized` with another threshold (thousandths) in place of the intent's own.
    public func isRecognized(threshold: Int) -> Bool {
        !evidence.isEmpty && missingRequired.isEmpty && presentExcluded.isEmpty && score >= threshold
    }

    /// The score as a number from 0 to 1.
    public var value: Double { Double(score) / 1000 }

    /// Why the intent was not recognized, or nil when it was.
    public var rejection: String? {
        if let missing = missingRequired.first { return "required '\(missing)' is missing" }
        if let present = presentExcluded.first { return "excluded '\(present)' is present" }
        if evidence.isEmpty { return "nothing fired" }
        if score < threshold { return "score \(Double(score) / 1000) is below the threshold \(Double(threshold) / 1000)" }
        return nil
    }
}

/// A pattern that could not be evaluated on a text (it hit a resource limit); it counted as not matching.
public struct RecognitionProblem: Sendable, Hashable {
    /// The intent whose pattern failed.
    public let intent: String
    /// The pattern as written.
    public let pattern: String
    /// What went wrong.
    public let error: RegexError
}

/// The outcome of recognizing one text.
public struct Recognition: Sendable, Hashable {
    /// Recognized intents, best first (score descending, then name ascending). Empty when nothing reached its threshold.
    public let intents: [IntentScore]
    /// Patterns that hit a resource limit on this text.
    public let problems: [RecognitionProblem]
}
