import FoundationEssentials
import Yams

/// Reading YAML files into located nodes, with syntax errors as diagnostics.
public enum YAMLSource {
    /// The largest YAML file Symphony reads.
    public static let maximumFileBytes = 16 << 20

    /// Parses `text`, the contents of `file`; returns nil (with an error) when it is not valid YAML.
    public static func parse(_ text: String, file: String, into diagnostics: inout Diagnostics) -> YAMLNode? {
        do {
            guard let root = try Yams.compose(yaml: text) else { return nil }
            return YAMLNode(root, file: file)
        } catch let error as YamlError {
            report(error, file: file, into: &diagnostics)
            return nil
        } catch {
            diagnostics.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")
            return nil
        }
    }

    /// Reads and parses the file at `path`, reporting unreadable files, invalid UTF-8 and syntax errors.
    public static func load(path: String, into diagnostics: inout Diagnostics) -> YAMLNode? {
        let start = SourceLocation(file: path, line: 1, column: 1)
        guard let data = FileManager.default.contents(atPath: path) else {
            diagnostics.error(at: start, "cannot read the file")
            return nil
        }
        guard data.count <= maximumFileBytes else {
            diagnostics.error(at: start, "the file is larger than \(maximumFileBytes >> 20) MiB")
            return nil
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            diagnostics.error(at: start, "the file is not valid UTF-8")
            return nil
        }
        return parse(text, file: path, into: &diagnostics)
    }

    private static func report(_ error: YamlError, file: String, into diagnostics: inout Diagnostics) {
        func location(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            diagnostics.error(at: location(mark), "YAML syntax error: \(problem)\(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            diagnostics.error(at: location(context.mark), "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping")
        case .reader(let problem, _, _, _):
            diagnostics.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot read YAML: \(problem)")
        default:
            diagnostics.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")
        }
    }
}
