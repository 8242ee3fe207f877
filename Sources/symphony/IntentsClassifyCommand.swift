import SymphonyJSON
import SymphonyPipeline
import ArgumentParser
import SymphonyDiagnostics
import SymphonyEvents
import SymphonyIntents
import SymphonyStore
import SymphonyRecords

/// `symphony intents [classify]`: classify text with the intents of a rule set.
struct IntentsClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Show how text is classified: ranked intents, scores, slots and evidence (the default).",
        discussion: """
            'symphony intents' with no subcommand runs this one. Loads the 'intents:' sections of the rule files at PATH (a file, or a directory of .yaml/.yml \
            files) and classifies each TEXT argument, or each line of standard input when no TEXT is given.

            Output is one JSON object per text on standard output: {"text": ..., "intents": [{"name", \
            "score", "slots", "evidence"}]}, best intent first. The scoring formula is in docs/reference/intents.md. \
            An input line that is rejected still gets its output line, so output lines match input lines: \
            {"line": N, "error": "..."} in JSON, "(line N rejected: ...)" in the table; the reason is also on standard error.

            Exit codes: 0 ok; 1 the intent definitions have errors; 64 usage error; \
            65 some input lines were rejected (not valid UTF-8, or too long); 77 --policy does not grant intents:analyze.
            """)

    /// Output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json
        case table
    }

    @Option(name: .long, help: ArgumentHelp("A rule file or a directory of rule files (repeatable).", valueName: "PATH"))
    var rules: [String] = []

    @Option(name: .long, help: "Output format: json (JSON Lines) or table.")
    var format: Format = .json

    @Option(name: .long, help: "Show at most N intents per text.")
    var top: Int?

    @Flag(name: .long, help: "Also show every intent's score breakdown, including those below threshold.")
    var explain = false

    @Argument(help: "Texts to classify (default: each line of standard input).")
    var texts: [String] = []

    @OptionGroup var accessOptions: AccessOptions

    @Option(name: .long, help: ArgumentHelp("The key file, for sealed bundles.", valueName: "PATH"))
    var keyFile: String?

    func validate() throws {
        try StateLocation.validatePaths(keyFile: keyFile)
        if rules.isEmpty { throw ValidationError("Missing '--rules PATH': name a rule file or a directory of rule files.") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1, not \(top).") }
    }

    func run() throws {
        try accessOptions.require(.analyzeIntents, with: try accessOptions.accessGuard(), recordIn: StateLocation.database(nil), keyFile: keyFile)
        let recognizer = try Self.loadRecognizer(rules: rules, keyFile: keyFile)

        let output = OutputLines()
        if format == .table { output.write(TableRow.header) }
        var rejected = 0
        var analyzed = 0
        func classify(_ text: String, origin: String) {
            analyzed += 1
            let (scores, problems) = recognizer.explain(text)
            for problem in problems {
                printError("symphony: warning: \(origin): intent '\(problem.intent)' pattern '\(problem.pattern)': \(problem.error.message) It counted as no match.")
            }
            var recognized = scores.filter(\.isRecognized)
            if let top { recognized = Array(recognized.prefix(top)) }
            switch format {
            case .json: output.write(jsonLine(text: text, recognized: recognized, all: scores))
            case .table: for line in TableRow.lines(text: text, recognized: recognized, all: explain ? scores : nil) { output.write(line) }
            }
        }
        func reject(line: Int, reason: String) {
            rejected += 1
            printError("<stdin>:\(line): rejected: \(reason)")
            switch format {
            case .json: output.write(JSONValue.object(["line": .int(Int64(line)), "error": .string(reason)]).jsonText)
            case .table: output.write("(line \(line) rejected: \(reason))")
            }
        }
        if texts.isEmpty {
            let reader = try LineReader(path: "-")
            while let line = try reader.next() {
                guard !line.tooLong else {
                    reject(line: line.number, reason: "line is longer than \(reader.maximumLineLength) bytes")
                    continue
                }
                guard let text = String(validating: line.bytes, as: UTF8.self) else {
                    reject(line: line.number, reason: "not valid UTF-8")
                    continue
                }
                classify(text, origin: "<stdin>:\(line.number)")
            }
        } else {
            for (index, text) in texts.enumerated() { classify(text, origin: "argument \(index + 1)") }
        }
        output.flush()
        CommandAudit.record(
            AuditRecord(principal: accessOptions.principal, operation: .intentsAnalyze, target: rules.joined(separator: " "), outcome: "ok", details: "\(analyzed) texts analyzed"),
            database: StateLocation.database(nil), keyFile: keyFile)
        if rejected > 0 { throw ExitCode.inputRejected }
    }

    /// The compiled intents of the rule files at `rules`; prints every diagnostic on stderr and
    /// exits 1 when there are errors.
    static func loadRecognizer(rules: [String], keyFile: String?) throws -> IntentRecognizer {
        let (documents, readProblems) = RuleDocuments.read(rules, keyFile: keyFile)
        let (definitions, loaded) = IntentSetLoader.load(documents: documents)
        var diagnostics = readProblems
        diagnostics.append(contentsOf: loaded)
        var recognizer: IntentRecognizer?
        if !diagnostics.hasErrors {
            do {
                recognizer = try IntentRecognizer(definitions)
            } catch {
                diagnostics.append(contentsOf: error.diagnostics)
            }
        }
        for diagnostic in diagnostics.sorted { printError(diagnostic.description) }
        guard let recognizer else { throw ExitCode(1) }
        if definitions.isEmpty { printError("symphony: warning: no intents are defined in \(rules.joined(separator: ", "))") }
        return recognizer
    }

    private func jsonLine(text: String, recognized: [IntentScore], all: [IntentScore]) -> String {
        var object = IntentReport.object(text: text, recognized: recognized)
        if explain {
            object["explain"] = .array(all.map(IntentReport.explanation))
        }
        return JSONValue.object(object).jsonText
    }
}

/// The `--format table` layout of `symphony intents`.
enum TableRow {
    static let widths = (text: 40, intent: 22, score: 7)

    static var header: String {
        pad("TEXT", widths.text) + "  " + pad("INTENT", widths.intent) + "  " + pad("SCORE", widths.score) + "  SLOTS"
    }

    static func lines(text: String, recognized: [IntentScore], all: [IntentScore]?) -> [String] {
        let shown = clip(text.replacingTabsAndNewlines, widths.text)
        var lines: [String] = []
        if recognized.isEmpty {
            lines.append(pad(shown, widths.text) + "  " + pad("(none)", widths.intent))
        }
        for (index, score) in recognized.enumerated() {
            let slots = score.slots.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append(
                pad(index == 0 ? shown : "", widths.text) + "  " + pad(clip(score.name, widths.intent), widths.intent) + "  "
                    + pad(String(score.value), widths.score) + "  " + slots)
        }
        for score in all ?? [] { lines.append("    " + explanation(score)) }
        return lines
    }

    /// One intent's score breakdown on one line: score, threshold, verdict and what fired.
    static func explanation(_ score: IntentScore) -> String {
        let evidence = score.evidence.map(\.summary)
        let verdict = score.rejection.map { "no: \($0)" } ?? "yes"
        return "\(score.name): \(score.value) (threshold \(Double(score.threshold) / 1000)) \(verdict)"
            + (evidence.isEmpty ? "" : " — " + evidence.joined(separator: ", "))
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func clip(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }
}

extension String {
    fileprivate var replacingTabsAndNewlines: String {
        String(unicodeScalars.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}
