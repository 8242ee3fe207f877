/// A pattern over dotted event types: `*` matches exactly one segment, `**` zero or more.
///
/// `ticket.*` matches `ticket.created` but not `ticket` or `ticket.a.b`; `ssh.**` matches `ssh`,
/// `ssh.login` and `ssh.login.failed`; `**` matches every type.
public struct TypePattern: Sendable, Hashable, CustomStringConvertible {
    /// One segment of a pattern.
    public enum Segment: Sendable, Hashable {
        case literal(String)
        case anyOne
        case anyMany
    }

    /// The pattern as written.
    public let text: String
    /// The parsed segments.
    public let segments: [Segment]

    /// Parses a pattern; throws `invalidPattern` with the reason when it is not valid.
    public init(_ text: String) throws {
        if let problem = EventType.problem(in: text, allowingWildcards: true) {
            throw EventsError(.invalidPattern, "Invalid type pattern '\(text)': \(problem).")
        }
        self.text = text
        segments = text.split(separator: ".", omittingEmptySubsequences: false).map { segment in
            switch segment {
            case "*": .anyOne
            case "**": .anyMany
            default: .literal(String(segment))
            }
        }
    }

    /// True when the pattern has no wildcards.
    public var isExact: Bool {
        segments.allSatisfy { if case .literal = $0 { true } else { false } }
    }

    /// True when `type` matches the pattern.
    public func matches(_ type: String) -> Bool {
        let parts = type.split(separator: ".", omittingEmptySubsequences: false)
        return Self.match(segments[...], parts[...])
    }

    private static func match(_ pattern: ArraySlice<Segment>, _ parts: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return parts.isEmpty }
        switch first {
        case .literal(let name):
            guard let part = parts.first, part == name else { return false }
            return match(pattern.dropFirst(), parts.dropFirst())
        case .anyOne:
            guard !parts.isEmpty else { return false }
            return match(pattern.dropFirst(), parts.dropFirst())
        case .anyMany:
            var rest = parts
            while true {
                if match(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
    }

    public var description: String { text }
}
