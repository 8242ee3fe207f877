/// What kind of action an execution record is about; stored as its integer code (`executions.kind`).
public enum ActionKind: Int64, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A derived event re-published at once.
    case publish = 1
    /// A derived event scheduled for later.
    case delay = 2
    /// A message written to the history (`audit:` actions).
    case audit = 3
    /// An event printed on standard output.
    case emit = 4
    /// Lower-salience rules skipped for this event.
    case stop = 5
    /// A pending keyed delay cancelled (`cancel:` actions and `unless:` of delays).
    case cancel = 6
    /// A program run with an argument list (`exec:` actions).
    case exec = 7
    /// An HTTP request (`http:` actions).
    case http = 8
    /// A line appended to a file (`file:` actions).
    case file = 9

    /// The name users write in rules and read in `symphony history` (`publish`, `delay`, …).
    public var name: String {
        switch self {
        case .publish: "publish"
        case .delay: "delay"
        case .audit: "audit"
        case .emit: "emit"
        case .stop: "stop"
        case .cancel: "cancel"
        case .exec: "exec"
        case .http: "http"
        case .file: "file"
        }
    }

    /// The kind named `name`, if any.
    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    /// True for the kinds that act outside Symphony (`exec`, `http`, `file`): they go through the
    /// outbox, run on their kind's pool, and are retried.
    public var isSideEffect: Bool { self == .exec || self == .http || self == .file }

    public var description: String { name }
}
