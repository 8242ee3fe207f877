import SymphonyDiagnostics
import SymphonyEvents

/// One test of a rule test file: input on a virtual clock, and what must and must not happen.
public struct RuleTestCase: Sendable {
    /// Its name, unique in its file.
    public let name: String
    /// Where it is written.
    public let location: SourceLocation
    /// Time zero of its virtual clock.
    public let start: Timestamp
    /// Its input, in time order.
    public let inputs: [RuleTestInput]
    /// What must happen.
    public let expectations: [RuleTestExpectation]
    /// What must not happen.
    public let forbidden: [RuleTestExpectation]
}
