/// How an action ended; stored as its integer code (`executions.outcome`).
public enum ExecutionOutcome: Int64, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// It ran.
    case ok = 0
    /// It could not run; the record's error says why.
    case failed = 1
    /// Access control refused it.
    case denied = 2
    /// It was not run.
    case skipped = 3

    /// `ok`, `failed`, `denied` or `skipped`: what `symphony history` shows and `--outcome` takes.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .failed: "failed"
        case .denied: "denied"
        case .skipped: "skipped"
        }
    }

    /// The outcome named `name`, if any.
    public init?(name: String) {
        guard let outcome = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = outcome
    }

    public var description: String { name }
}
