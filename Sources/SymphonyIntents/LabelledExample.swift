import SymphonyDiagnostics

/// A text and the intent it should be recognized as, or none: one line of an evaluation set.
public struct LabelledExample: Sendable, Hashable {
    /// The text to classify.
    public var text: String
    /// The expected intent, or nil when no intent should be recognized (an out-of-scope text).
    public var intent: String?
    /// Where the example is in its file (the line its record starts on).
    public var location: SourceLocation

    /// A labelled example.
    public init(text: String, intent: String?, location: SourceLocation) {
        self.text = text
        self.intent = intent
        self.location = location
    }
}
