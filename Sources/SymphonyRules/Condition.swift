import SymphonyJSON
import SymphonyDiagnostics
import SymphonyEvents
import SymphonyRegex

/// A test on an event: on one field, on the intent of its text, or a combination.
public indirect enum Condition: Sendable {
    /// Every condition holds (evaluated in order, stopping at the first that fails).
    case all([Condition], location: SourceLocation?)
    /// At least one condition holds (evaluated in order, stopping at the first that holds).
    case any([Condition], location: SourceLocation?)
    /// The condition does not hold (captures inside it are discarded).
    case not(Condition, location: SourceLocation?)
    /// A test on the value at a dotted path.
    case field(path: FieldPath, test: FieldTest, location: SourceLocation?)
    /// The text at `field` is recognized as intent `name` with at least `minimumScore` (thousandths).
    case intent(name: String, minimumScore: Int?, field: FieldPath, location: SourceLocation?)

    /// Where the condition is written.
    public var location: SourceLocation? {
        switch self {
        case .all(_, let location), .any(_, let location), .not(_, let location), .field(_, _, let location),
            .intent(_, _, _, let location):
            location
        }
    }
}

/// The operator of a field condition and its operand.
public enum FieldTest: Sendable {
    case equals(JSONValue)
    case notEquals(JSONValue)
    case isIn([JSONValue])
    case exists(Bool)
    case greaterThan(Double)
    case greaterThanOrEqual(Double)
    case lessThan(Double)
    case lessThanOrEqual(Double)
    case contains(JSONValue)
    case matches(RegularExpression)

    /// The operator's name as written in rule files.
    public var keyword: String {
        switch self {
        case .equals: "equals"
        case .notEquals: "not_equals"
        case .isIn: "in"
        case .exists: "exists"
        case .greaterThan: "gt"
        case .greaterThanOrEqual: "gte"
        case .lessThan: "lt"
        case .lessThanOrEqual: "lte"
        case .contains: "contains"
        case .matches: "matches"
        }
    }

    /// Every operator keyword.
    public static let keywords = ["equals", "not_equals", "in", "exists", "gt", "gte", "lt", "lte", "contains", "matches"]
}

/// A dotted path to an event field (`payload.user.name`, `payload.commits[0].id`), split once when
/// the rule set loads (`FieldPathSyntax`).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// The path as written.
    public let text: String
    /// Its segments.
    public let segments: [String]

    /// A path from its text.
    public init(_ text: String) {
        self.text = text
        segments = FieldPathSyntax.segments(of: text) ?? text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    public var description: String { text }
}
