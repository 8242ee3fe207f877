import Glibc
import FoundationEssentials
import Yams

/// Reading YAML files into located nodes, with syntax errors as diagnostics.
public enum YAMLSource {
    /// The largest YAML file Symphony reads.
    public static let maximumFileBytes = 4 << 20
    /// The deepest nesting (flow brackets, or block indentation in columns / 2) accepted, so a hostile file cannot exhaust the stack.
    public static let maximumDepth = 256
    /// The most nodes a document may expand to (YAML aliases can make a small file huge: "billion laughs").
    public static let maximumNodes = 200_000

    /// Parses `text`, the contents of `file`; returns nil (with an error) when it is not valid YAML,
    /// nests deeper than `maximumDepth`, or expands (through aliases) past `maximumNodes` nodes.
    public static func parse(_ text: String, file: String, into diagnostics: inout Diagnostics) -> YAMLNode? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        if let line = deepestLine(text) {
            diagnostics.error(at: SourceLocation(file: file, line: line, column: 1), "the document nests deeper than \(maximumDepth) levels")
            return nil
        }
        do {
            guard let root = try Yams.compose(yaml: text) else { return nil }
            guard nodeCount(root, limit: maximumNodes) <= maximumNodes else {
                diagnostics.error(at: start, "the document expands to more than \(maximumNodes) YAML nodes (through aliases?); refusing to load it")
                return nil
            }
            return YAMLNode(root, file: file)
        } catch let error as YamlError {
            report(error, file: file, text: text, into: &diagnostics)
            return nil
        } catch {
            diagnostics.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")
            return nil
        }
    }

    /// Reads and parses the file at `path`, reporting unreadable files, invalid UTF-8 and syntax errors.
    public static func load(path: String, into diagnostics: inout Diagnostics) -> YAMLNode? {
        guard let text = text(of: FileManager.default.contents(atPath: path).map { Array($0) }, file: path, into: &diagnostics) else { return nil }
        return parse(text, file: path, into: &diagnostics)
    }

    /// The text of a YAML file's bytes (nil: the file could not be read), or nil with an error for
    /// an unreadable file, one over `maximumFileBytes`, or bytes that are not UTF-8.
    public static func text(of contents: [UInt8]?, file: String, into diagnostics: inout Diagnostics) -> String? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let contents else {
            let reason =
                access(file, F_OK) != 0 ? "the file does not exist"
                : access(file, R_OK) != 0 ? "cannot read the file: \(String(cString: strerror(errno)))" : "cannot read the file"
            diagnostics.error(at: start, reason)
            return nil
        }
        guard contents.count <= maximumFileBytes else {
            diagnostics.error(at: start, "the file is larger than \(maximumFileBytes >> 20) MiB")
            return nil
        }
        guard let text = String(validating: contents, as: UTF8.self) else {
            diagnostics.error(at: start, "the file is not valid UTF-8")
            return nil
        }
        return text
    }

    /// The first line where flow nesting or block indentation goes past `maximumDepth`, or nil.
    static func deepestLine(_ text: String) -> Int? {
        var depth = 0
        var line = 1
        var column = 0
        var leading = true
        var quote: UInt8?
        var previous: UInt8 = 0
        for byte in text.utf8 {
            defer { previous = byte }
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
                leading = true
                continue
            }
            column += 1
            if leading {
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") {
                    if column > 2 * maximumDepth { return line }
                    continue
                }
                leading = false
            }
            if let open = quote {
                if byte == open && !(open == UInt8(ascii: "\"") && previous == UInt8(ascii: "\\")) { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth { return line }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
        return nil
    }

    /// The line `line` of `text` and a caret under `column` (both from 1), indented under the
    /// message; empty when the line is not in the text.
    static func excerpt(of text: String, line: Int, column: Int) -> String {
        var lines = text.split(separator: "\n", maxSplits: line, omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return "" }
        if lines.count > line { lines.removeLast() }
        // Tabs are shown as one space each, so the caret lines up with the column libyaml counts.
        let source = String(lines[line - 1].prefix(200)).replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r", with: "")
        let number = String(line)
        let gutter = String(repeating: " ", count: number.count)
        let caret = String(repeating: " ", count: max(0, min(column, source.count + 1) - 1)) + "^"
        return "\n  \(number) | \(source)\n  \(gutter) | \(caret)"
    }

    /// What usually causes a libyaml complaint, in rule files.
    static func hint(for problem: String) -> String? {
        if problem.contains("unknown escape character") {
            return "in double quotes a backslash starts an escape (\\n, \\t, \\\"); write regexes in single quotes, as in '\\w+' (a quote inside is doubled: 'it''s')"
        }
        if problem.contains("tab character") { return "YAML indents with spaces only: replace the tab with spaces" }
        if problem.contains("flow mapping") || problem.contains("flow sequence") {
            return "inside { … } or [ … ], a value holding , [ ] { } or # must be quoted, as in {field: 'payload.items[0].id'}"
        }
        if problem.contains("mapping values are not allowed") {
            return "check this line's indentation against its siblings above; a value holding ': ' must be quoted"
        }
        if problem.contains("could not find expected ':'") { return "a key needs ': ' after it; or a quote opened above is not closed" }
        return nil
    }

    /// The number of nodes in `root` with aliases expanded, counting no further than `limit + 1`.
    static func nodeCount(_ root: Node, limit: Int) -> Int {
        var count = 0
        var stack = [root]
        while let node = stack.popLast() {
            count += 1
            if count > limit { return count }
            switch node {
            case .mapping(let mapping):
                for pair in mapping {
                    stack.append(pair.key)
                    stack.append(pair.value)
                }
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            case .scalar, .alias: break
            }
        }
        return count
    }

    private static func report(_ error: YamlError, file: String, text: String, into diagnostics: inout Diagnostics) {
        func location(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            // '@' cannot start a plain YAML value, and intents write lexicon names as '@name'.
            let line = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(mark.line - 1).first
            let character = line.flatMap { $0.unicodeScalars.dropFirst(mark.column - 1).first }
            let hint = character == "@" ? "a value that starts with '@' must be quoted, as in '@currency'" : hint(for: problem + detail)
            // At the end of the input the line is empty: show where the unfinished construct began instead.
            let blank = line.map { $0.allSatisfy(\.isWhitespace) } ?? true
            let shown = blank ? (context?.mark ?? mark) : mark
            let message = "YAML syntax error: \(problem)\(detail)" + excerpt(of: text, line: shown.line, column: shown.column)
            diagnostics.error(at: location(mark), message + (hint.map { "\n  hint: " + $0 } ?? ""))
        case .duplicatedKeysInMapping(let duplicates, let context):
            diagnostics.error(at: location(context.mark), "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping")
        case .reader(let problem, _, _, _):
            diagnostics.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot read YAML: \(problem)")
        default:
            diagnostics.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")
        }
    }
}
