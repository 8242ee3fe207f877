import SymphonyRegex

/// The named captures of a rule's `matches` conditions that held, for `{{ captures.NAME }}`.
///
/// A rule captures a few names, so they are kept as a list in the order captured, not hashed
/// into a dictionary per match; a later condition's capture of a name replaces an earlier one's.
public struct Captures: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private var entries: [NamedCapture]

    /// No captures.
    public init() {
        entries = []
    }

    /// Captures from `name: value` pairs (a later pair of a name replaces an earlier one).
    public init(dictionaryLiteral elements: (String, String)...) {
        entries = elements.map { NamedCapture(name: $0.0, value: $0.1) }
    }

    /// The text last captured under `name`, or nil.
    public subscript(name: String) -> String? {
        entries.last { $0.name == name }?.value
    }

    /// True when nothing was captured.
    public var isEmpty: Bool { entries.isEmpty }

    /// Each captured name with its text.
    public var dictionary: [String: String] {
        Dictionary(entries.map { ($0.name, $0.value) }, uniquingKeysWith: { _, later in later })
    }

    /// Adds one match's captures; they replace earlier captures of the same names.
    mutating func add(_ captures: [NamedCapture]) {
        if entries.isEmpty { entries = captures } else { entries += captures }
    }

    /// Equal when the same names hold the same texts, in whatever order they were captured.
    public static func == (lhs: Captures, rhs: Captures) -> Bool {
        lhs.entries == rhs.entries || lhs.dictionary == rhs.dictionary
    }
}
