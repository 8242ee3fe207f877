import SymphonyDiagnostics

/// Named regex fragments, used as `%{NAME}` in `matches` conditions and line parsers, like grok's.
///
/// `%{NAME}` inserts the fragment as a non-capturing group; `%{NAME:field}` captures it as
/// `field`; `%{NAME:field:int}` (or `float`, `bool`) also gives the captured value a type.
/// Rule sets add or override fragments in a top-level `patterns:` mapping; fragments may use
/// other fragments.
public struct PatternLibrary: Sendable {
    /// Fragment sources by name.
    public private(set) var fragments: [String: String]

    /// Fragments every rule set has.
    public static let builtIn: [String: String] = [
        "INT": #"[+-]?\d+"#,
        "NUMBER": #"[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?"#,
        "WORD": #"\w+"#,
        "NOTSPACE": #"\S+"#,
        "SPACE": #"\s*"#,
        "DATA": #".*?"#,
        "GREEDYDATA": #".*"#,
        "QUOTEDSTRING": #""(?:[^"\\]|\\.)*""#,
        "IPV4": #"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"#,
        "IPV6": #"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?"#,
        "IP": "(?:%{IPV4}|%{IPV6})",
        "HOSTNAME": #"\b[0-9A-Za-z](?:[0-9A-Za-z-]{0,62})(?:\.[0-9A-Za-z](?:[0-9A-Za-z-]{0,62}))*\.?\b"#,
        "IPORHOST": "(?:%{IP}|%{HOSTNAME})",
        "USER": #"[a-zA-Z0-9._-]+"#,
        "POSINT": #"\b[1-9]\d*\b"#,
        "MONTH": #"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"#,
        "SYSLOGTIMESTAMP": #"%{MONTH} +\d{1,2} \d{2}:\d{2}:\d{2}"#,
        "TIMESTAMP_ISO8601": #"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"#,
        "HTTPDATE": #"\d{2}/%{MONTH}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}"#,
        "SYSLOGPROG": #"[\w./-]+(?:\[\d+\])?"#,
    ]

    /// The built-in fragments.
    public init() { fragments = Self.builtIn }

    /// Adds (or replaces) a fragment.
    public mutating func define(_ name: String, as source: String) { fragments[name] = source }

    /// True when `name` is a valid fragment name (letters, digits and `_`, starting with a letter).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic else { return false }
        return isWord(name)
    }

    /// True when `text` is ASCII letters, digits and `_` only (and not empty).
    private static func isWord(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    /// `source` with every `%{…}` replaced, and the types of the typed captures; or why not.
    public func expand(_ source: String) -> Result<(pattern: String, types: [String: CaptureType]), PatternProblem> {
        var types: [String: CaptureType] = [:]
        return expand(source, types: &types, using: []).map { ($0, types) }
    }

    private func expand(_ source: String, types: inout [String: CaptureType], using stack: [String]) -> Result<String, PatternProblem> {
        guard source.contains("%{") else { return .success(source) }
        let characters = Array(source)
        var output = ""
        var index = 0
        while index < characters.count {
            // `\%` stays literal; a `%{` inside a character class is expanded like anywhere else.
            if characters[index] == "\\", index + 1 < characters.count {
                output.append(characters[index])
                output.append(characters[index + 1])
                index += 2
                continue
            }
            guard characters[index] == "%", index + 1 < characters.count, characters[index + 1] == "{" else {
                output.append(characters[index])
                index += 1
                continue
            }
            guard let close = characters[(index + 2)...].firstIndex(of: "}") else {
                return .failure(PatternProblem(message: "'%{' is not closed with '}'", offset: index))
            }
            let parts = String(characters[(index + 2)..<close]).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            guard parts.count <= 3, let fragment = fragments[name] else {
                let known = fragments.keys.sorted()
                return .failure(PatternProblem(
                    message: parts.count > 3
                        ? "'%{\(parts.joined(separator: ":"))}' has too many parts: write %{NAME}, %{NAME:field} or %{NAME:field:type}"
                        : "unknown pattern '\(name)'\(NameSuggestion.hint(for: name, in: known))", offset: index))
            }
            guard !stack.contains(name) else {
                return .failure(PatternProblem(message: "pattern '\(name)' refers to itself (\((stack + [name]).joined(separator: " → ")))", offset: index))
            }
            let inner: String
            switch expand(fragment, types: &types, using: stack + [name]) {
            case .success(let text): inner = text
            case .failure(let problem):
                return .failure(PatternProblem(message: "in pattern '\(name)': \(problem.message)", offset: index))
            }
            if parts.count >= 2 {
                let field = parts[1]
                guard Self.isWord(field), !("0"..."9").contains(field.unicodeScalars.first!) else {
                    return .failure(PatternProblem(message: "capture name '\(field)' must be letters, digits and '_', not starting with a digit", offset: index))
                }
                if parts.count == 3 {
                    guard let type = CaptureType(rawValue: parts[2]) else {
                        return .failure(PatternProblem(
                            message: "unknown capture type '\(parts[2])'; use \(CaptureType.allCases.map(\.rawValue).joined(separator: ", "))", offset: index))
                    }
                    types[field] = type
                }
                output += "(?<\(field)>\(inner))"
            } else {
                output += "(?:\(inner))"
            }
            index = close + 1
        }
        return .success(output)
    }
}

/// Why a `%{…}` reference does not expand.
public struct PatternProblem: Error, Sendable, Hashable {
    /// What is wrong.
    public let message: String
    /// Character offset in the regex as written.
    public let offset: Int
}
