/// One finding about a source file: an error that stops loading, or a warning about something suspicious.
///
/// Prints as `file:line:column: error: message`, the format compilers use, so editors can jump to it.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious a diagnostic is.
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    /// Error or warning.
    public let severity: Severity
    /// Where it is, when known.
    public let location: SourceLocation?
    /// What is wrong and, where one exists, how to fix it.
    public let message: String
    /// A warning about cost rather than meaning (a regex the intent pre-filter cannot skip):
    /// `symphony validate` shows it; commands that run the rules do not repeat it at every start.
    public let isAdvisory: Bool

    /// A diagnostic.
    public init(_ severity: Severity, at location: SourceLocation?, _ message: String, advisory: Bool = false) {
        self.severity = severity
        self.location = location
        self.message = message
        isAdvisory = advisory
    }

    public var description: String {
        if let location { return "\(location): \(severity.rawValue): \(message)" }
        return "\(severity.rawValue): \(message)"
    }
}

/// The diagnostics collected while loading: every error in one pass, not just the first.
public struct Diagnostics: Sendable, Hashable, CustomStringConvertible {
    /// Everything found, in the order found.
    public private(set) var all: [Diagnostic] = []

    /// No diagnostics yet.
    public init() {}

    /// Records an error.
    public mutating func error(at location: SourceLocation?, _ message: String) {
        all.append(Diagnostic(.error, at: location, message))
    }

    /// Records a warning.
    public mutating func warning(at location: SourceLocation?, _ message: String) {
        all.append(Diagnostic(.warning, at: location, message))
    }

    /// Records a warning about cost rather than meaning (see `Diagnostic.isAdvisory`).
    public mutating func advisory(at location: SourceLocation?, _ message: String) {
        all.append(Diagnostic(.warning, at: location, message, advisory: true))
    }

    /// Adds another collection's diagnostics.
    public mutating func append(contentsOf other: Diagnostics) {
        all += other.all
    }

    /// The errors.
    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }
    /// The warnings.
    public var warnings: [Diagnostic] { all.filter { $0.severity == .warning } }
    /// True when at least one error was found.
    public var hasErrors: Bool { all.contains { $0.severity == .error } }

    /// The diagnostics sorted by file, line and column (stable for equal locations).
    public var sorted: [Diagnostic] {
        all.enumerated().sorted { lhs, rhs in
            switch (lhs.element.location, rhs.element.location) {
            case let (left?, right?) where left != right: return left < right
            case (nil, _?): return true
            case (_?, nil): return false
            default: return lhs.offset < rhs.offset
            }
        }.map(\.element)
    }

    /// One diagnostic per line, sorted.
    public var description: String { sorted.map(\.description).joined(separator: "\n") }
}

/// Thrown when loading found errors; carries every diagnostic (warnings too).
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    /// What loading found.
    public let diagnostics: Diagnostics

    /// An error carrying `diagnostics`.
    public init(_ diagnostics: Diagnostics) {
        self.diagnostics = diagnostics
    }

    public var description: String { diagnostics.description }
}
