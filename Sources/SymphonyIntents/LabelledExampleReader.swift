import SymphonyDiagnostics
import SymphonyJSON

/// Reads labelled examples from CSV (header `text,intent`) or JSON Lines
/// (`{"text": ..., "intent": ...}`), reporting every malformed record with its line.
///
/// An empty or absent intent, or one of the `noneLabels` (by default `none`), means that no intent
/// should be recognized. Other columns or members are ignored. Blank lines are skipped.
public enum LabelledExampleReader {
    /// The two example file formats.
    public enum Format: String, Sendable, CaseIterable {
        /// Comma-separated values with a header row naming `text` and `intent`.
        case csv
        /// One JSON object per line.
        case jsonLines = "jsonl"
    }

    /// The labels that mean "no intent" unless the caller names others.
    public static let defaultNoneLabels: Set<String> = ["none"]

    /// The format a file's name implies (`.csv`; `.jsonl`, `.ndjson` or `.json`), or nil.
    public static func format(ofPath path: String) -> Format? {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".csv") { return .csv }
        if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") || lowered.hasSuffix(".json") { return .jsonLines }
        return nil
    }

    /// The examples in `text` (read from `file`, named in diagnostics), and every problem found.
    public static func read(
        _ text: String, file: String, format: Format, noneLabels: Set<String> = defaultNoneLabels
    ) -> (examples: [LabelledExample], diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        let examples: [LabelledExample]
        switch format {
        case .csv: examples = csv(text, file: file, noneLabels: noneLabels, into: &diagnostics)
        case .jsonLines: examples = jsonLines(text, file: file, noneLabels: noneLabels, into: &diagnostics)
        }
        if examples.isEmpty && !diagnostics.hasErrors {
            diagnostics.error(at: SourceLocation(file: file, line: 1, column: 1), "the file has no examples")
        }
        return (examples, diagnostics)
    }

    private static func label(_ value: String?, noneLabels: Set<String>) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingSpaces
        return trimmed.isEmpty || noneLabels.contains(trimmed) ? nil : trimmed
    }

    private static func csv(_ text: String, file: String, noneLabels: Set<String>, into diagnostics: inout Diagnostics) -> [LabelledExample] {
        let (records, problems) = CSVRecords.parse(text)
        for problem in problems {
            diagnostics.error(at: SourceLocation(file: file, line: problem.line, column: problem.column), problem.message)
        }
        guard let header = records.first else { return [] }
        let names = header.fields.map { $0.trimmingSpaces.lowercased() }
        guard let textColumn = names.firstIndex(of: "text"), let intentColumn = names.firstIndex(of: "intent") else {
            let found = header.fields.map { "'\($0)'" }.joined(separator: ", ")
            diagnostics.error(
                at: SourceLocation(file: file, line: header.line, column: 1),
                "the header row must name the columns 'text' and 'intent' (found \(found))")
            return []
        }
        var examples: [LabelledExample] = []
        for record in records.dropFirst() {
            let location = SourceLocation(file: file, line: record.line, column: 1)
            guard record.fields.count == header.fields.count else {
                diagnostics.error(
                    at: location,
                    "this row has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s") but the header has \(header.fields.count); quote a text that contains a comma")
                continue
            }
            let text = record.fields[textColumn]
            if text.trimmingSpaces.isEmpty {
                diagnostics.error(at: location, "the text is empty")
                continue
            }
            examples.append(LabelledExample(text: text, intent: label(record.fields[intentColumn], noneLabels: noneLabels), location: location))
        }
        return examples
    }

    private static func jsonLines(
        _ text: String, file: String, noneLabels: Set<String>, into diagnostics: inout Diagnostics
    ) -> [LabelledExample] {
        var examples: [LabelledExample] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.last == "\r" ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let location = SourceLocation(file: file, line: offset + 1, column: 1)
            let value: JSONValue
            do {
                value = try JSONParser.parse(Array(line.utf8))
            } catch {
                diagnostics.error(at: location, "not valid JSON: \(error.description)")
                continue
            }
            guard let object = value.objectValue else {
                diagnostics.error(at: location, "expected a JSON object such as {\"text\": \"…\", \"intent\": \"…\"}")
                continue
            }
            guard let textValue = object["text"] else {
                diagnostics.error(at: location, "the object has no \"text\" member")
                continue
            }
            guard let text = textValue.stringValue, !text.trimmingSpaces.isEmpty else {
                diagnostics.error(at: location, "\"text\" must be a non-empty string")
                continue
            }
            var intent: String?
            switch object["intent"] {
            case nil, .null?: intent = nil
            case .string(let name)?: intent = label(name, noneLabels: noneLabels)
            default:
                diagnostics.error(at: location, "\"intent\" must be a string, null or absent")
                continue
            }
            examples.append(LabelledExample(text: text, intent: intent, location: location))
        }
        return examples
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
