import ArgumentParser
import Foundation
import SymphonyDiagnostics
import SymphonyIntents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords

/// `symphony intents evaluate`: how well a rule set's intents classify labelled examples.
struct IntentsEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure how well the intents classify labelled examples: accuracy, precision, recall, confusions.",
        discussion: """
            Classifies each labelled example of EXAMPLES with the intents of the rule files at --rules, \
            and reports accuracy, precision, recall and F1 (overall and per intent), the no-intent rate \
            (an intent was expected, none was recognized), the out-of-scope false-positive rate (no intent \
            was expected, one was recognized), the most frequent confusions, and each misclassified text \
            with its score breakdown. A text's prediction is its best recognized intent, or none.

            EXAMPLES is CSV with a header row naming the columns 'text' and 'intent' (other columns are \
            ignored; quote texts that contain commas), or JSON Lines of {"text": ..., "intent": ...} \
            (a .jsonl, .ndjson or .json file). An empty or absent intent, or 'none', means that no intent \
            should be recognized (an out-of-scope text); --none-label adds other such labels.

            --sweep adds precision, recall and F1 with every intent's threshold set to 0.05, 0.10, … 1.0, \
            to help choose thresholds. See docs/reference/intents.md.

            Exit codes: 0 ok (whatever the figures); 1 the intent definitions have errors; \
            64 usage error; 65 the examples file is malformed (each problem is printed with its line); \
            66 the examples file cannot be read; 77 --policy does not grant intents:analyze.
            """)

    /// Output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(name: .long, help: ArgumentHelp("A rule file or a directory of rule files (repeatable).", valueName: "PATH"))
    var rules: [String] = []

    @Option(name: .long, help: "Output format: text (a report for people) or json (one JSON object).")
    var format: Format = .text

    @Flag(name: .long, help: "Also show precision, recall and F1 with every intent's threshold set to 0.05, 0.10, … 1.0.")
    var sweep = false

    @Option(name: .long, help: ArgumentHelp("Show the N most frequent confusions.", valueName: "N"))
    var confusions = 10

    @Option(
        name: .long,
        help: ArgumentHelp("Show at most N misclassified texts (default: 20 in text, all in json).", valueName: "N"))
    var misclassified: Int?

    @Option(name: .long, help: ArgumentHelp("A label that also means 'no intent expected' (repeatable), e.g. oos.", valueName: "LABEL"))
    var noneLabel: [String] = []

    @Argument(help: ArgumentHelp("Labelled examples: a CSV or JSON Lines file.", valueName: "EXAMPLES"))
    var examples: String

    @OptionGroup var accessOptions: AccessOptions

    @Option(name: .long, help: ArgumentHelp("The key file, for sealed bundles.", valueName: "PATH"))
    var keyFile: String?

    func validate() throws {
        try StateLocation.validatePaths(keyFile: keyFile)
        if rules.isEmpty { throw ValidationError("Missing '--rules PATH': name a rule file or a directory of rule files.") }
        if confusions < 0 { throw ValidationError("--confusions must be 0 or more, not \(confusions).") }
        if let misclassified, misclassified < 0 { throw ValidationError("--misclassified must be 0 or more, not \(misclassified).") }
    }

    func run() throws {
        try accessOptions.require(.analyzeIntents, with: try accessOptions.accessGuard(), recordIn: StateLocation.database(nil), keyFile: keyFile)
        let recognizer = try IntentsClassifyCommand.loadRecognizer(rules: rules, keyFile: keyFile)
        let labelled = try readExamples()

        let evaluation = IntentEvaluation(examples: labelled, recognizer: recognizer)
        for (name, example) in evaluation.undefinedLabels {
            printError(
                Diagnostic(
                    .warning, at: example.location,
                    "intent '\(name)' is not defined in the rule set, so its texts count as misses\(NameSuggestion.hint(for: name, in: evaluation.intentNames))"
                ).description)
        }
        for outcome in evaluation.outcomes {
            for problem in outcome.problems {
                printError(
                    "symphony: warning: \(outcome.example.location.file):\(outcome.example.location.line): intent '\(problem.intent)' pattern '\(problem.pattern)': \(problem.error.message) It counted as no match."
                )
            }
        }
        let output = OutputLines()
        switch format {
        case .text: for line in textReport(evaluation) { output.write(line) }
        case .json: output.write(jsonReport(evaluation).jsonText)
        }
        output.flush()
        CommandAudit.record(
            AuditRecord(
                principal: accessOptions.principal, operation: .intentsAnalyze, target: rules.joined(separator: " "), outcome: "ok",
                details: "\(labelled.count) labelled texts evaluated"),
            database: StateLocation.database(nil), keyFile: keyFile)
    }

    /// The examples file's examples; prints every problem and exits 65 (66 when it cannot be read).
    private func readExamples() throws -> [LabelledExample] {
        guard let data = FileManager.default.contents(atPath: examples) else {
            printError("symphony: cannot read the examples file '\(examples)'")
            throw ExitCode.noInput
        }
        guard let text = String(validating: Array(data), as: UTF8.self) else {
            printError("\(examples): error: the examples file is not valid UTF-8")
            throw ExitCode.inputRejected
        }
        let fileFormat =
            LabelledExampleReader.format(ofPath: examples)
            ?? (text.drop { $0.isWhitespace }.first == "{" ? .jsonLines : .csv)
        let (labelled, diagnostics) = LabelledExampleReader.read(
            text, file: examples, format: fileFormat, noneLabels: LabelledExampleReader.defaultNoneLabels.union(noneLabel))
        for diagnostic in diagnostics.sorted { printError(diagnostic.description) }
        if diagnostics.hasErrors { throw ExitCode.inputRejected }
        return labelled
    }

    private var misclassifiedLimit: Int { misclassified ?? (format == .text ? 20 : Int.max) }

    private func misclassifiedOutcomes(_ evaluation: IntentEvaluation) -> [(outcome: IntentEvaluation.Outcome, predicted: String?)] {
        evaluation.outcomes.compactMap { outcome in
            let predicted = outcome.predicted()?.name
            return predicted == outcome.example.intent ? nil : (outcome, predicted)
        }
    }

    // MARK: - Text

    private func textReport(_ evaluation: IntentEvaluation) -> [String] {
        let metrics = evaluation.metrics()
        var lines: [String] = [
            "examples: \(metrics.examples) (\(metrics.expectingIntent) expect an intent, \(metrics.expectingNone) expect none)",
            "accuracy: \(Self.percent(metrics.accuracy)) (\(metrics.correct)/\(metrics.examples) as expected)",
            "precision: \(Self.percent(metrics.precision)) (\(metrics.truePositives)/\(metrics.predictedIntent) recognized intents were right)",
            "recall: \(Self.percent(metrics.recall)) (\(metrics.truePositives)/\(metrics.expectingIntent) expected intents were recognized)",
            "F1: \(Self.percent(metrics.f1))",
            "no-intent rate: \(Self.percent(metrics.noIntentRate)) (\(metrics.missed)/\(metrics.expectingIntent) expected an intent, got none)",
            "out-of-scope false positives: \(Self.percent(metrics.outOfScopeFalsePositiveRate)) (\(metrics.outOfScopeHits)/\(metrics.expectingNone) expected none, got one)",
            "",
        ]
        let nameWidth = max(6, metrics.perIntent.map(\.name.count).max() ?? 0)
        lines.append(TableRow.pad("INTENT", nameWidth) + "  SUPPORT  PREDICTED  PRECISION  RECALL  F1")
        for intent in metrics.perIntent {
            lines.append(
                TableRow.pad(intent.name, nameWidth) + "  " + TableRow.pad(String(intent.support), 7) + "  "
                    + TableRow.pad(String(intent.predicted), 9) + "  " + TableRow.pad(Self.percent(intent.precision), 9) + "  "
                    + TableRow.pad(Self.percent(intent.recall), 6) + "  " + Self.percent(intent.f1))
        }
        let confusions = metrics.confusions.prefix(confusions)
        if !confusions.isEmpty {
            lines += ["", "top confusions (expected → recognized):"]
            let width = confusions.map { Self.name($0.expected).count }.max() ?? 0
            for confusion in confusions {
                lines.append(
                    "  " + TableRow.pad(Self.name(confusion.expected), width) + " → " + Self.name(confusion.predicted) + ": \(confusion.count)")
            }
        }
        let wrong = misclassifiedOutcomes(evaluation)
        if !wrong.isEmpty && misclassifiedLimit > 0 {
            lines += ["", "misclassified (\(wrong.count)):"]
            for (outcome, predicted) in wrong.prefix(misclassifiedLimit) {
                let example = outcome.example
                lines.append(
                    "  line \(example.location.line): expected \(Self.name(example.intent)), got \(Self.name(predicted)): \(displayText(example.text))")
                // The expected and recognized intents, and any other that something fired for.
                for score in outcome.scores where score.name == example.intent || score.name == predicted || !score.evidence.isEmpty {
                    lines.append("    " + TableRow.explanation(score))
                }
            }
            if wrong.count > misclassifiedLimit {
                lines.append("  … and \(wrong.count - misclassifiedLimit) more (--misclassified N shows more)")
            }
        }
        if sweep {
            lines += [
                "", "threshold sweep (every intent's threshold set to T; 'own' is each intent's own threshold):",
                "T     PRECISION  RECALL  F1      ACCURACY  NO-INTENT  OUT-OF-SCOPE-FP",
            ]
            for (threshold, row) in sweepRows(evaluation) {
                lines.append(
                    TableRow.pad(threshold.map { String(Double($0) / 1000) } ?? "own", 4) + "  " + TableRow.pad(Self.percent(row.precision), 9)
                        + "  " + TableRow.pad(Self.percent(row.recall), 6) + "  " + TableRow.pad(Self.percent(row.f1), 6) + "  "
                        + TableRow.pad(Self.percent(row.accuracy), 8) + "  " + TableRow.pad(Self.percent(row.noIntentRate), 9) + "  "
                        + Self.percent(row.outOfScopeFalsePositiveRate))
            }
        }
        return lines
    }

    private func sweepRows(_ evaluation: IntentEvaluation) -> [(threshold: Int?, metrics: IntentMetrics)] {
        [(nil, evaluation.metrics())] + IntentEvaluation.sweepThresholds.map { ($0, evaluation.metrics(threshold: $0)) }
    }

    /// A ratio as a percentage with one decimal, or "-" when undefined.
    static func percent(_ ratio: Double?) -> String {
        guard let ratio else { return "-" }
        let tenths = Int((ratio * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func name(_ intent: String?) -> String { intent ?? "(none)" }

    // MARK: - JSON

    private func jsonReport(_ evaluation: IntentEvaluation) -> JSONValue {
        let metrics = evaluation.metrics()
        var report = metrics.json(confusions: confusions).objectValue ?? [:]
        let wrong = misclassifiedOutcomes(evaluation)
        report["misclassified_count"] = .int(Int64(wrong.count))
        report["misclassified"] = .array(
            wrong.prefix(misclassifiedLimit).map { outcome, predicted in
                [
                    "line": .int(Int64(outcome.example.location.line)), "text": .string(outcome.example.text),
                    "expected": outcome.example.intent.map { .string($0) } ?? .null,
                    "predicted": predicted.map { .string($0) } ?? .null,
                    "explain": .array(
                        outcome.scores.filter { $0.name == outcome.example.intent || $0.name == predicted || !$0.evidence.isEmpty }
                            .map(IntentReport.explanation)),
                ]
            })
        if sweep {
            report["sweep"] = .array(
                sweepRows(evaluation).map { threshold, row in
                    var object = row.summaryJSON.objectValue ?? [:]
                    object["threshold"] = threshold.map { .double(Double($0) / 1000) } ?? .null
                    return .object(object)
                })
        }
        return .object(report)
    }
}
