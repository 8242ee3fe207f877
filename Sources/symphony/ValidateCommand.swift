import SymphonyJSON
import SymphonyPipeline
import ArgumentParser
import SymphonyDiagnostics
import SymphonyEngine
import SymphonyEvents
import SymphonyRules
import SymphonyRecords

/// `symphony validate`: check a rule set, and with --events show what it would do — executing nothing.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check rule files; with --events, a dry run that shows which rules would fire and why.",
        discussion: """
            Without --events: loads the rule set, reports every error and warning as file:line:column, and runs \
            the static checks (re-publish cycles without a delay, templated publish/delay types that can \
            re-trigger their own rule, rules shadowed by a higher-salience 'stop', 'on' types one typo away from \
            a type another rule publishes, regexes that backtrack \
            catastrophically on a short text PCRE2 is tried on, regexes that match every text because they can match \
            the empty string, intent patterns without a literal for the pre-filter).

            With --events FILE (or - for standard input): for each event, every rule that applies to its type, \
            whether it matches and, if not, the first condition that failed (with intent scores); the actions \
            that would run, with their templates rendered. Re-published and delayed events are followed on a \
            virtual clock so the whole chain is shown, up to the hop limit (16), the input event's derived-event \
            budget (--max-derived, as in run) and 1000 traced events. A dry run executes nothing and writes nothing. \
            A rule that no event reached, when no rule publishes a type it is on, gets a warning on stderr naming \
            the closest type the events have (a misspelt 'on', often).

            Without --events, a rule set with side effects also gets the list of permissions its actions need (events:publish:<type>, \
            actions:exec, actions:http:<host>, actions:file:<path>); without --policy, a run allows all of \
            them but actions:exec. Side effects (exec, http, file) are shown in a dry run — argument list, \
            URL, headers with values read from the environment masked, body — and never run.

            --summary prints, instead of each trace, how many events each rule saw and matched (the events of its \
            types, input and derived), the rules that never matched and how many input events no rule matched — \
            like fail2ban-regex. --stable-ids makes ids repeat from run to run (line-N for input events without \
            an id, d1, d2, … for derived ones), so dry-run outputs can be compared. --expect-match exits 3 when \
            no rule matched any event (a pattern that matches nothing, say).

            Exit codes: 0 valid; 1 errors in the rules; 3 with --expect-match, nothing matched; 64 usage error; \
            65 some event lines were rejected; 66 an events file could not be read; 77 --policy does not grant rules:validate.
            """)

    /// Output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: ArgumentHelp("Rule files or directories (one rule set).", valueName: "PATH"))
    var rulePaths: [String] = []

    @Option(name: .customLong("rules"), parsing: .upToNextOption, help: ArgumentHelp("Rule files or directories; the same as PATH.", valueName: "PATH"))
    var rulesOption: [String] = []

    /// The rule files, named either way (`symphony validate PATH` or `--rules PATH`).
    var paths: [String] { rulePaths + rulesOption }

    @Option(name: .long, help: ArgumentHelp("Events for a dry run: a JSON Lines file, or - for standard input.", valueName: "FILE"))
    var events: String?

    @Option(name: .long, help: "text or json.")
    var format: Format = .text

    @Option(name: .long, help: ArgumentHelp("Read every event line as raw text, wrapped as an event of this type (no JSON parsing; invalid UTF-8 replaced by U+FFFD; the rule set's 'lines:' parser for the type, if any, reads fields and time).", valueName: "TYPE"))
    var lines: String?

    @OptionGroup var plainJSONOptions: PlainJSONOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "In a dry run, the most events one input event may derive by publish and delay (default 10000, as in run).", valueName: "N"))
    var maxDerived: Int = RuleEngine.defaultDerivedEventBudget

    @Flag(name: .customLong("stable-ids"), help: "In a dry run, ids that repeat from run to run: input events without an id get line-N (their line), derived events d1, d2, ….")
    var stableIDs = false

    @Flag(name: .long, help: "In a dry run, print per rule how many events it saw and matched (and the events no rule matched) instead of each trace.")
    var summary = false

    @Flag(name: .long, help: "In a dry run, exit 3 when no rule matched any event.")
    var expectMatch = false

    @OptionGroup var accessOptions: AccessOptions

    @Option(name: .long, help: ArgumentHelp("The key file, for sealed bundles.", valueName: "PATH"))
    var keyFile: String?

    func validate() throws {
        try StateLocation.validatePaths(keyFile: keyFile)
        if paths.isEmpty { throw ValidationError("Name at least one rule file or directory.") }
        if maxDerived < 1 { throw ValidationError("--max-derived must be at least 1, not \(maxDerived).") }
        try plainJSONOptions.check(lines: lines)
        if let lines {
            do { try EventType.validate(lines) } catch let error as EventsError { throw ValidationError("--lines: \(error.message)") }
        }
    }

    func run() throws {
        try accessOptions.require(.validateRules, with: try accessOptions.accessGuard())
        let (documents, readProblems) = RuleDocuments.read(paths, keyFile: keyFile)
        var (ruleSet, diagnostics) = RuleSetLoader.load(documents: documents)
        if readProblems.hasErrors { ruleSet = nil }
        var merged = readProblems
        merged.append(contentsOf: diagnostics)
        diagnostics = merged
        let stdout = OutputLines()
        if format == .json {
            stdout.write(
                JSONValue.object([
                    "valid": .bool(ruleSet != nil),
                    "rules": .int(Int64(ruleSet?.rules.count ?? 0)),
                    "intents": .int(Int64(ruleSet?.recognizer.definitions.count ?? 0)),
                    "diagnostics": .array(diagnostics.sorted.map(Self.json)),
                    "permissions": .array((ruleSet.map(RequiredPermissions.of) ?? []).map(JSONValue.string)),
                ]).jsonText)
        } else {
            report(diagnostics.sorted)
        }
        guard let ruleSet else {
            stdout.flush()
            throw ExitCode(1)
        }
        guard let events else {
            if format == .text {
                let warnings = diagnostics.warnings.count
                stdout.write(
                    "\(paths.joined(separator: " ")): valid: \(ruleSet.rules.count) rules, \(ruleSet.recognizer.definitions.count) intents"
                        + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
                // Worth a line when the rule set acts on the world; publish permissions alone are in --format json.
                let needed = RequiredPermissions.of(ruleSet)
                if ruleSet.rules.contains(where: \.hasSideEffects) { stdout.write("its actions need these permissions (a --policy must grant them): " + needed.joined(separator: ", ")) }
            }
            stdout.flush()
            return
        }

        let dryRun = DryRun(ruleSet: ruleSet, derivedEventBudget: maxDerived, eventIDs: stableIDs ? EventIDGenerator(prefix: "d") : nil)
        var tally = DryRunTally(ruleSet: ruleSet)
        var rejected = 0
        var replaced = 0
        var number = 0
        let parser = lines.flatMap { ruleSet.lineParsers[$0] }
        var source = LineEventSource(paths: [events], rawLinesType: lines, lineParser: parser)
        source.plainJSON = plainJSONOptions.mode
        let opened = try source.forEach { line in
            let origin = line.origin
            if line.replacedInvalidUTF8 { replaced += 1 }
            if let problem = line.parseProblem { printError("\(origin): \(problem)") }
            switch line.result {
            case .failure(let problem):
                rejected += 1
                printError("\(origin): rejected: \(displayText(problem.reason))")
            case .success(var event):
                number += 1
                if stableIDs && EventIDGenerator.shared.made(event.id) { event.id = "line-\(origin.line)" }
                let (steps, truncated) = dryRun.traceReport(event)
                tally.add(steps)
                guard !summary else { return true }
                let cutAfter = truncated ? dryRun.stepLimit : nil
                switch format {
                case .json: stdout.write(DryRunFormatter.json(steps, origin: origin.description, cutAfter: cutAfter).jsonText)
                case .text: for line in DryRunFormatter.text(steps, origin: origin.description, cutAfter: cutAfter) { stdout.write(line) }
                }
            }
            return true
        }
        // Keyed delays still pending at the end of the input fire on the virtual clock, as they would in a run once due.
        for (steps, truncated) in dryRun.tracePendingKeyedDelays() {
            tally.add(steps)
            if summary { continue }
            let origin = "(end of input: a keyed delay still pending, fired on the virtual clock)"
            let cutAfter = truncated ? dryRun.stepLimit : nil
            switch format {
            case .json: stdout.write(DryRunFormatter.json(steps, origin: origin, cutAfter: cutAfter).jsonText)
            case .text: for line in DryRunFormatter.text(steps, origin: origin, cutAfter: cutAfter) { stdout.write(line) }
            }
        }
        if summary {
            switch format {
            case .json: stdout.write(tally.json.jsonText)
            case .text: for line in tally.lines { stdout.write(line) }
            }
        }
        stdout.flush()
        for warning in tally.unreachedRuleWarnings { printError("symphony: " + warning) }
        if replaced > 0 { printError("symphony: \(replaced) event line\(replaced == 1 ? "" : "s") had invalid UTF-8 replaced by U+FFFD") }
        if !opened { throw ExitCode.noInput }
        if rejected > 0 { throw ExitCode.inputRejected }
        if expectMatch && tally.matchedEvents == 0 {
            printError("symphony: no rule matched any of the \(tally.inputEvents) input events (--expect-match)")
            throw ExitCode.nothingMatched
        }
    }

    static func json(_ diagnostic: Diagnostic) -> JSONValue {
        var object: [String: JSONValue] = ["severity": .string(diagnostic.severity.rawValue), "message": .string(diagnostic.message)]
        if let location = diagnostic.location {
            object["file"] = .string(location.file)
            object["line"] = .int(Int64(location.line))
            object["column"] = .int(Int64(location.column))
        }
        return .object(object)
    }
}

/// How dry-run traces print.
enum DryRunFormatter {
    /// The trace as text; `cutAfter`, when the trace stopped at its step limit, adds a line saying so.
    static func text(_ steps: [DryRun.Step], origin: String, cutAfter: Int? = nil) -> [String] {
        var lines: [String] = []
        guard let first = steps.first else { return lines }
        // Offsets are from the input event; keyed delays that came due before it are traced first.
        let start = steps.first { ($0.event.causation?.hop ?? 0) == 0 }?.at ?? first.at
        if (first.event.causation?.hop ?? 0) > 0 { lines.append(origin.hasPrefix("(") ? origin : "\(origin): first, what came due before it:") }
        var traced: Set<String> = []
        for step in steps {
            defer { traced.insert(step.event.id) }
            var hop = step.event.causation?.hop ?? 0
            let offset = start.duration(to: step.at)
            let when = offset > .zero ? " at +\(describe(offset))" : offset < .zero ? " at -\(describe(.zero - offset))" : ""
            let header: String
            if hop == 0 {
                header = "\(origin): \(step.event.type) (id \(step.event.id), priority \(step.event.priority))"
            } else if let causation = step.event.causation, !traced.contains(causation.parentID) {
                // A keyed delay scheduled by an earlier event of the input, due now on the virtual clock.
                hop = 1
                header = "⏲ \(step.event.type) (keyed delay of rule '\(causation.rule)', due \(step.at))"
            } else {
                header = "→ \(step.event.type) (hop \(hop), from rule '\(step.event.causation?.rule ?? "")'\(when))"
            }
            let indent = String(repeating: "  ", count: hop)
            lines.append(indent + header)
            if step.rules.isEmpty { lines.append(indent + "  (no rule applies to this type)") }
            for rule in step.rules {
                if rule.matched {
                    lines.append(indent + "  ✔ \(rule.rule) (salience \(rule.salience)) matches")
                    for action in rule.actions { lines.append(indent + "      " + describe(action)) }
                } else {
                    lines.append(indent + "  ✘ \(rule.rule): \(rule.failure ?? "does not match")")
                }
            }
            if let stopper = step.stoppedBy { lines.append(indent + "  (rule '\(stopper)' stops: lower-salience rules are not evaluated)") }
            for note in step.notes { lines.append(indent + "  ↳ " + note) }
        }
        if let cutAfter { lines.append("  … the trace stops after \(cutAfter) events; the chain goes on (a loop? the hop limit stops it in a run)") }
        return lines
    }

    static func describe(_ action: DryRun.ActionReport) -> String {
        if let error = action.error { return "\(action.kind): would fail: \(error)" }
        switch action.kind {
        case .publish, .emit:
            return "\(action.kind) \(action.derived?.type ?? "") \(action.derived?.payload.jsonText ?? "{}")"
        case .delay:
            guard let derived = action.derived else { return "delay: \(action.message ?? "")" }  // a kept keyed delay
            return "delay \(derived.type) \(derived.payload.jsonText) until \(action.due?.description ?? "")"
                + (action.message.map { " (\($0))" } ?? "")
        case .audit:
            return "audit \"\(action.message ?? "")\""
        case .stop:
            return action.kind.name
        case .cancel:
            return "cancel \(action.message ?? "")"
        case .exec, .http, .file:
            return action.request?.shown ?? action.kind.name
        }
    }

    static func describe(_ duration: Duration) -> String { DurationParser.text(duration) }

    /// The trace as one JSON object; `"truncated": true` when it stopped at its step limit (`cutAfter`).
    static func json(_ steps: [DryRun.Step], origin: String, cutAfter: Int? = nil) -> JSONValue {
        var object = traceObject(steps, origin: origin)
        if cutAfter != nil { object["truncated"] = .bool(true) }
        return .object(object)
    }

    private static func traceObject(_ steps: [DryRun.Step], origin: String) -> [String: JSONValue] {
        [
            "input": .string(origin),
            "steps": .array(steps.map { step in
                .object([
                    "event": EventJSON.object(step.event),
                    "at": .string(step.at.description),
                    "stopped_by": step.stoppedBy.map(JSONValue.string) ?? .null,
                    "notes": .array(step.notes.map(JSONValue.string)),
                    "rules": .array(step.rules.map { rule in
                        .object([
                            "rule": .string(rule.rule), "salience": .int(Int64(rule.salience)), "matched": .bool(rule.matched),
                            "failure": rule.failure.map(JSONValue.string) ?? .null,
                            "actions": .array(rule.actions.map { action in
                                var object: [String: JSONValue] = ["kind": .string(action.kind.name)]
                                if let derived = action.derived { object["event"] = EventJSON.object(derived) }
                                if let due = action.due { object["due"] = .string(due.description) }
                                if let message = action.message { object["message"] = .string(message) }
                                if let error = action.error { object["error"] = .string(error) }
                                if let request = action.request { object["request"] = request.maskedJSON }
                                return .object(object)
                            }),
                        ])
                    }),
                ])
            }),
        ]
    }
}
