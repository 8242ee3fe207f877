import SymphonyDiagnostics
import SymphonyEvents

/// How one rule test went: what failed (none when it passed), and what happened.
public struct RuleTestResult: Sendable {
    /// The test's name.
    public let name: String
    /// Where the test is written.
    public let location: SourceLocation
    /// One entry per expectation that did not hold: what was expected, what was found, and why
    /// the rule did not fire where it did not.
    public let failures: [String]
    /// Every firing and action of the test's dry run, in order.
    public let observations: [RuleTestObservation]
    /// The test's time zero (reports show times as offsets from it).
    public let start: Timestamp

    /// True when every expectation held.
    public var passed: Bool { failures.isEmpty }

    /// What happened, one line each, times from the start (at most `limit` lines).
    public func actualLines(limit: Int = 40) -> [String] {
        let lines = observations.prefix(limit).map { $0.line(start: start) }
        return observations.count > limit ? lines + ["… \(observations.count - limit) more"] : lines
    }
}
