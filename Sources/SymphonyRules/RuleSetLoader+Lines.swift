import SymphonyDiagnostics
import SymphonyEvents
import SymphonyRegex

/// Reading a rule set's `patterns:` (named regex fragments) and `lines:` (raw line parsers).
extension RuleSetLoader {
    static let lineParserKeys = ["match", "time"]
    static let lineTimeKeys = ["field", "format"]

    /// The built-in fragments plus every file's `patterns:`.
    /// `sources` receives each user pattern that compiles, for the static checks.
    static func patternLibrary(
        in roots: [YAMLNode], sources: inout [RegexSource], into diagnostics: inout Diagnostics
    ) -> PatternLibrary {
        var library = PatternLibrary()
        var defined: [String: SourceLocation] = [:]
        for root in roots {
            guard let section = root.entries?.first(where: { $0.key == "patterns" })?.value, !section.isNull else { continue }
            guard let entries = section.entries else {
                diagnostics.error(at: section.location, "'patterns' must be a mapping of names to regexes, not \(section.kindDescription)")
                continue
            }
            for entry in entries {
                guard PatternLibrary.isValidName(entry.key) else {
                    diagnostics.error(at: entry.keyNode.location, "pattern name '\(entry.key)' must be letters, digits and '_', starting with a letter")
                    continue
                }
                if let first = defined[entry.key] {
                    diagnostics.error(at: entry.keyNode.location, "duplicate pattern '\(entry.key)'; it is first defined at \(first)")
                    continue
                }
                guard let source = entry.value.string("pattern '\(entry.key)'", into: &diagnostics) else { continue }
                defined[entry.key] = entry.keyNode.location
                library.define(entry.key, as: source)
            }
        }
        // Each user pattern must expand and compile on its own, so a mistake is reported where it is written.
        for root in roots {
            guard let entries = root.entries?.first(where: { $0.key == "patterns" })?.value.entries else { continue }
            for entry in entries where defined[entry.key] == entry.keyNode.location {
                guard let (regex, _) = compile(entry.value, what: "pattern '\(entry.key)'", library: library, into: &diagnostics) else { continue }
                sources.append(
                    RegexSource(source: entry.value.scalarText ?? regex.pattern, regex: regex, kind: .fragment(entry.key), location: entry.value.contentLocation))
            }
        }
        return library
    }

    /// Every file's `lines:` parsers, by the `--lines` type they read; `sources` receives each one's regex.
    static func lineParsers(
        in roots: [YAMLNode], library: PatternLibrary, sources: inout [RegexSource], into diagnostics: inout Diagnostics
    ) -> [String: LineParser] {
        var parsers: [String: LineParser] = [:]
        var defined: [String: SourceLocation] = [:]
        for root in roots {
            guard let section = root.entries?.first(where: { $0.key == "lines" })?.value, !section.isNull else { continue }
            guard let entries = section.entries else {
                diagnostics.error(at: section.location, "'lines' must be a mapping of event types to line parsers, not \(section.kindDescription)")
                continue
            }
            for entry in entries {
                let type = entry.key
                do {
                    try EventType.validate(type)
                } catch let error as EventsError {
                    diagnostics.error(at: entry.keyNode.location, error.message.lowercasedFirst.droppingFinalPeriod)
                    continue
                } catch { continue }
                if let first = defined[type] {
                    diagnostics.error(at: entry.keyNode.location, "duplicate line parser for '\(type)'; it is first defined at \(first)")
                    continue
                }
                defined[type] = entry.keyNode.location
                if let parser = lineParser(type: type, node: entry.value, library: library, into: &diagnostics) {
                    parsers[type] = parser
                    let match = entry.value.entries?.first { $0.key == "match" }?.value
                    sources.append(
                        RegexSource(source: match?.scalarText ?? parser.regex.pattern, regex: parser.regex, kind: .lineParser(type), location: match?.contentLocation))
                }
            }
        }
        return parsers
    }

    private static func lineParser(type: String, node: YAMLNode, library: PatternLibrary, into diagnostics: inout Diagnostics) -> LineParser? {
        guard let fields = node.fields(of: "line parser '\(type)'", allowed: lineParserKeys, required: ["match"], into: &diagnostics),
            let matchNode = fields["match"],
            let (regex, types) = compile(matchNode, what: "'match'", library: library, into: &diagnostics)
        else { return nil }
        let names = Set(regex.groupNames.compactMap { $0 })
        var time: (field: String, format: TimeFormat)?
        if let timeNode = fields["time"] {
            guard let timeFields = timeNode.fields(of: "'time'", allowed: lineTimeKeys, required: ["field", "format"], into: &diagnostics),
                let fieldNode = timeFields["field"], let field = fieldNode.string("'field'", into: &diagnostics),
                let formatNode = timeFields["format"], let formatText = formatNode.string("'format'", into: &diagnostics)
            else { return nil }
            guard names.contains(field) else {
                let known = names.sorted()
                diagnostics.error(
                    at: fieldNode.contentLocation,
                    "'\(field)' is not captured by the 'match' regex"
                        + (known.isEmpty ? " (it captures nothing; use %{SYSLOGTIMESTAMP:time} or (?<time>…))" : NameSuggestion.hint(for: field, in: known)))
                return nil
            }
            guard let format = TimeFormat(name: formatText) else {
                diagnostics.error(
                    at: formatNode.contentLocation,
                    "unknown time format '\(formatText)'; use \(TimeFormat.names.joined(separator: ", ")) or a strftime-style format such as '%d/%b/%Y:%H:%M:%S %z'")
                return nil
            }
            if case .strftime(let pattern) = format, let directive = StrftimeParser.unsupportedDirective(in: pattern) {
                diagnostics.error(at: formatNode.contentLocation, "time format directive '\(directive)' is not supported; use \(StrftimeParser.directives)")
                return nil
            }
            time = (field, format)
        }
        if names.contains("message") {
            diagnostics.warning(at: matchNode.contentLocation, "a capture named 'message' is ignored: payload.message is always the whole line")
        }
        return LineParser(type: type, regex: regex, types: types, time: time)
    }

    /// The regex in `node` with its `%{…}` fragments expanded, compiled, and its capture types.
    static func compile(
        _ node: YAMLNode, what: String, library: PatternLibrary, into diagnostics: inout Diagnostics
    ) -> (RegularExpression, [String: CaptureType])? {
        guard let source = node.string(what, into: &diagnostics) else { return nil }
        let expanded: (pattern: String, types: [String: CaptureType])
        switch library.expand(source) {
        case .success(let result): expanded = result
        case .failure(let problem):
            diagnostics.error(at: node.contentLocation.advanced(byColumns: problem.offset), "invalid regex: \(problem.message)")
            return nil
        }
        do {
            return (try RegularExpression(expanded.pattern), expanded.types)
        } catch {
            // Offsets are into the expanded pattern: point at the regex when fragments were expanded.
            let offset = expanded.pattern == source ? error.offset : nil
            diagnostics.error(
                at: node.contentLocation.advanced(byColumns: offset ?? 0),
                "invalid regex: \(error.message)" + (offset.map { " (at offset \($0))" } ?? (expanded.pattern == source ? "" : " (after expanding its %{…} patterns)")))
            return nil
        }
    }
}
