/// A named capture group's text in one match.
public struct NamedCapture: Sendable, Hashable {
    /// The group's name.
    public let name: String
    /// The text it captured.
    public let value: String

    /// A capture.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A match's range and named captures: what rule conditions and intent patterns keep of a match,
/// without its numbered groups or a dictionary of names.
public struct CapturedMatch: Sendable, Hashable {
    /// The match's byte range in the subject's UTF-8.
    public let utf8Range: Range<Int>
    /// The named groups that took part in the match, in group order (empty when none is named).
    public let namedCaptures: [NamedCapture]
}
