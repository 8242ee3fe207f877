import SymphonyJSON
import SymphonyDiagnostics
import SymphonyEvents
import SymphonyIntents
import SymphonyRegex

/// Reads rule files into a `RuleSet`, collecting every error and warning in one pass.
///
/// Read → collect → compile: files are parsed (`YAMLSource`), the `intents:` sections are read by
/// `IntentSetLoader`, then each rule is checked field by field here; `RuleSet` compiles what loaded
/// and `StaticChecks` looks for cycles, shadowed rules and risky regexes.
public enum RuleSetLoader {
    static let ruleKeys = ["name", "description", "on", "when", "after", "count", "throttle", "priority", "actions", "run_as", "retry", "concurrency"]
    static let eventKeys = ["type", "payload", "priority"]
    static let fieldRoots = ["id", "type", "priority", "source", "time", "payload"]

    /// Loads the rule set made of the YAML files named by `paths` (files, or directories of files).
    public static func load(paths: [String]) -> (ruleSet: RuleSet?, diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        var roots: [YAMLNode] = []
        for file in SourceFiles.yamlFiles(in: paths, into: &diagnostics) {
            if let root = YAMLSource.load(path: file, into: &diagnostics) { roots.append(root) }
        }
        let ruleSet = load(roots: roots, into: &diagnostics)
        return (diagnostics.hasErrors ? nil : ruleSet, diagnostics)
    }

    /// Loads the rule set made of already-read documents (file name for messages, text).
    public static func load(documents: [(file: String, text: String)]) -> (ruleSet: RuleSet?, diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        let roots = documents.compactMap { YAMLSource.parse($0.text, file: $0.file, into: &diagnostics) }
        let ruleSet = load(roots: roots, into: &diagnostics)
        return (diagnostics.hasErrors ? nil : ruleSet, diagnostics)
    }

    /// Loads a rule set from parsed files; returns nil only when nothing usable could be built.
    public static func load(roots: [YAMLNode], into diagnostics: inout Diagnostics) -> RuleSet? {
        let definitions = IntentSetLoader.definitions(in: roots, into: &diagnostics)
        let recognizer: IntentRecognizer
        do {
            recognizer = try IntentRecognizer(definitions)
        } catch {
            diagnostics.append(contentsOf: error.diagnostics)
            recognizer = (try? IntentRecognizer([])) ?? { fatalError("an empty recognizer always compiles") }()
        }
        var patternSources: [RegexSource] = []
        let patterns = patternLibrary(in: roots, sources: &patternSources, into: &diagnostics)
        let lineParsers = lineParsers(in: roots, library: patterns, sources: &patternSources, into: &diagnostics)
        var context = LoadContext(recognizer: recognizer, patterns: patterns)
        context.regexSources = patternSources
        var owner: (name: String, location: SourceLocation)?
        for root in roots {
            guard let node = root.entries?.first(where: { $0.key == "owner" })?.value,
                let name = node.string("'owner'", into: &diagnostics)
            else { continue }
            if let first = owner, first.name != name {
                diagnostics.error(at: node.location, "the rule set has two owners, '\(first.name)' (at \(first.location)) and '\(name)'; a rule set has one owner")
            } else if owner == nil {
                owner = (name, node.location)
            }
        }
        var rules: [Rule] = []
        var seen: [String: SourceLocation] = [:]
        for root in roots {
            guard let section = root.entries?.first(where: { $0.key == "rules" })?.value, !section.isNull else { continue }
            guard let items = section.list("'rules'", into: &diagnostics) else { continue }
            for item in items {
                let nameNode = item.entries?.first(where: { $0.key == "name" })?.value
                if let nameNode, let name = nameNode.scalarText {
                    if let first = seen[name] {
                        diagnostics.error(at: nameNode.location, "duplicate rule name '\(name)'; it is first defined at \(first)")
                    } else {
                        seen[name] = nameNode.location
                    }
                }
                if let rule = self.rule(from: item, order: rules.count, context: &context, into: &diagnostics) {
                    rules.append(rule)
                }
            }
        }
        checkCancelledRules(rules, names: seen.keys.sorted(), into: &diagnostics)
        let sideEffects = sideEffectSettings(in: roots, into: &diagnostics)
        let ruleSet = RuleSet(
            rules: rules, recognizer: recognizer, regexSources: context.regexSources, owner: owner?.name, lineParsers: lineParsers,
            sideEffects: sideEffects)
        StaticChecks.run(on: ruleSet, into: &diagnostics)
        return ruleSet
    }

    /// What loading one rule needs to know about the rest of the set.
    struct LoadContext {
        let recognizer: IntentRecognizer
        /// Named regex fragments (`%{NAME}`).
        let patterns: PatternLibrary
        var regexSources: [RegexSource] = []
    }

    /// What a rule's templates may refer to.
    struct RuleScope {
        var captures: Set<String> = []
        /// Names captured only inside `not` (discarded: the condition holds when the regex does not match).
        var discardedCaptures: Set<String> = []
        var intents: [String] = []
        /// `window`, `throttle` and/or `after`: the gates whose fields are defined at this point.
        var gates: Set<String> = []
        /// The same for every gate the rule declares (defined or not yet).
        var declaredGates: Set<String> = []
        /// Whether the count gate keeps the window's event ids (`window.ids`).
        var windowKeepsIDs = false
    }

    static func rule(from node: YAMLNode, order: Int, context: inout LoadContext, into diagnostics: inout Diagnostics) -> Rule? {
        let errorsBefore = diagnostics.errors.count
        let label = node.entries?.first(where: { $0.key == "name" })?.value.scalarText.map { "rule '\($0)'" } ?? "a rule"
        guard let fields = node.fields(of: label, allowed: ruleKeys, required: ["name", "on", "actions"], into: &diagnostics) else {
            return nil
        }
        var name = ""
        if let nameNode = fields["name"], let text = nameNode.string("the rule name", into: &diagnostics) {
            name = text
            if !IntentSetLoader.isValidName(text) {  // rules and intents name themselves alike
                diagnostics.error(at: nameNode.location, "rule name '\(text)' must be letters, digits, '_', '-' or '.'")
            }
        }
        if let description = fields["description"] { _ = description.string("'description'", into: &diagnostics) }

        let patterns = fields["on"].map { typePatterns($0, into: &diagnostics) } ?? []
        var salience = 0
        if let priority = fields["priority"] {
            if let text = priority.scalarText, let value = Int(text), priority.kindDescription == "a number" {
                salience = value
            } else {
                let found = priority.kindDescription == "a number" ? (priority.scalarText ?? "") : priority.kindDescription
                diagnostics.error(at: priority.location, "'priority' (salience) must be a whole number, not \(found)")
            }
        }
        var scope = RuleScope()
        var condition: Condition?
        if let when = fields["when"] {
            condition = self.condition(from: when, scope: &scope, context: &context, into: &diagnostics)
        }
        // The gates' keys see what the conditions define; the actions also see the gates' fields.
        for (key, root) in [("after", "after"), ("count", "window"), ("throttle", "throttle")] where fields[key] != nil {
            scope.declaredGates.insert(root)
        }
        // A gate that fails to load still defines its fields for what follows: its own error is
        // the one to fix, not one per use of its fields.
        let after = fields["after"].flatMap { sequenceGate(from: $0, into: &diagnostics) }
        if fields["after"] != nil { scope.gates.insert("after") }
        let count = fields["count"].flatMap { countWindow(from: $0, scope: scope, into: &diagnostics) }
        if fields["count"] != nil {
            scope.gates.insert("window")
            scope.windowKeepsIDs = count?.keepIDs ?? true
        }
        let throttle = fields["throttle"].flatMap { self.throttle(from: $0, scope: scope, into: &diagnostics) }
        if fields["throttle"] != nil { scope.gates.insert("throttle") }
        var actions: [Action] = []
        if let actionsNode = fields["actions"], let items = actionsNode.list("'actions'", into: &diagnostics) {
            if items.isEmpty { diagnostics.error(at: actionsNode.location, "'actions' needs at least one action") }
            for item in items {
                if let action = self.action(from: item, scope: scope, into: &diagnostics) { actions.append(action) }
            }
        }
        var runAs: String?
        if let node = fields["run_as"] { runAs = node.string("'run_as'", into: &diagnostics) }
        let retry = fields["retry"].map { retryPolicy($0, into: &diagnostics) } ?? .default
        let concurrency = fields["concurrency"].flatMap { wholeNumber($0, what: "'concurrency'", in: 1...256, into: &diagnostics) }
        for key in ["retry", "concurrency"] where fields[key] != nil && !actions.contains(where: { $0.kind.isSideEffect }) {
            diagnostics.warning(at: fields[key]!.location, "'\(key)' applies to exec, http and file actions; this rule has none")
        }
        guard diagnostics.errors.count == errorsBefore, let retry else { return nil }
        return Rule(
            name: name, on: patterns, when: condition, salience: salience, actions: actions, location: fields["name"]?.location, order: order,
            runAs: runAs, count: count, throttle: throttle, after: after, retry: retry, concurrency: concurrency)
    }

    // MARK: Conditions

    static func condition(from node: YAMLNode, scope: inout RuleScope, context: inout LoadContext, into diagnostics: inout Diagnostics) -> Condition? {
        if let items = node.items {
            if items.isEmpty { diagnostics.error(at: node.location, "'when' needs at least one condition") }
            let conditions = items.compactMap { condition(from: $0, scope: &scope, context: &context, into: &diagnostics) }
            return conditions.count == items.count ? .all(conditions, location: node.location) : nil
        }
        guard let entries = node.entries else {
            diagnostics.error(at: node.location, "a condition must be a mapping (or a list of conditions), not \(node.kindDescription)")
            return nil
        }
        if entries.isEmpty {
            diagnostics.error(at: node.location, "a condition must not be empty")
            return nil
        }
        let combinators = ["all", "any", "not", "intent"]
        if let combinator = entries.first(where: { combinators.contains($0.key) }) {
            for extra in entries where extra.key != combinator.key {
                diagnostics.error(at: extra.keyNode.location, "'\(combinator.key)' must stand alone in its condition; move '\(extra.key)' into a separate condition")
            }
            let value = combinator.value
            switch combinator.key {
            case "all", "any":
                guard let items = value.list("'\(combinator.key)'", into: &diagnostics) else { return nil }
                if items.isEmpty { diagnostics.error(at: value.location, "'\(combinator.key)' needs at least one condition") }
                let conditions = items.compactMap { condition(from: $0, scope: &scope, context: &context, into: &diagnostics) }
                guard conditions.count == items.count else { return nil }
                return combinator.key == "all" ? .all(conditions, location: combinator.keyNode.location) : .any(conditions, location: combinator.keyNode.location)
            case "not":
                if let items = value.items, items.isEmpty {
                    // A list under `not` means all of it; an empty one means nothing.
                    diagnostics.error(at: value.location, "'not' needs at least one condition")
                    return nil
                }
                var inner = scope
                guard let condition = condition(from: value, scope: &inner, context: &context, into: &diagnostics) else { return nil }
                scope.intents = inner.intents  // captures under `not` are discarded, intent names are still checked
                scope.discardedCaptures.formUnion(inner.captures.subtracting(scope.captures).union(inner.discardedCaptures))
                return .not(condition, location: combinator.keyNode.location)
            default:
                return intentCondition(from: value, at: combinator.keyNode.location, scope: &scope, context: context, into: &diagnostics)
            }
        }
        let allowed = ["field"] + FieldTest.keywords + combinators
        guard let fields = node.fields(of: "a condition", allowed: allowed, required: ["field"], into: &diagnostics) else { return nil }
        let operators = FieldTest.keywords.filter { fields[$0] != nil }
        guard operators.count == 1, let keyword = operators.first, let operand = fields[keyword] else {
            if operators.isEmpty {
                diagnostics.error(at: node.location, "a field condition needs one operator: \(FieldTest.keywords.joined(separator: ", "))")
            } else {
                diagnostics.error(at: node.location, "a field condition takes one operator, not \(operators.count) (\(operators.joined(separator: ", "))); combine them with 'all'")
            }
            return nil
        }
        guard let pathNode = fields["field"], let path = pathNode.string("'field'", into: &diagnostics) else { return nil }
        guard checkFieldPath(path, at: pathNode.contentLocation, into: &diagnostics) else { return nil }
        if keyword != "matches" { warnAboutOperand(operand, keyword: keyword, into: &diagnostics) }
        let test: FieldTest
        switch keyword {
        case "equals":
            guard let value = jsonValue(operand, into: &diagnostics) else { return nil }
            test = .equals(value)
        case "not_equals":
            guard let value = jsonValue(operand, into: &diagnostics) else { return nil }
            test = .notEquals(value)
        case "in":
            guard let items = operand.list("'in'", into: &diagnostics) else { return nil }
            let values = items.compactMap { jsonValue($0, into: &diagnostics) }
            guard values.count == items.count else { return nil }
            test = .isIn(values)
        case "exists":
            guard let flag = operand.bool("'exists'", into: &diagnostics) else { return nil }
            test = .exists(flag)
        case "contains":
            guard let value = jsonValue(operand, into: &diagnostics) else { return nil }
            test = .contains(value)
        case "matches":
            guard let (regex, types) = compile(operand, what: "'matches'", library: context.patterns, into: &diagnostics) else { return nil }
            if !types.isEmpty {
                diagnostics.warning(
                    at: operand.contentLocation,
                    "capture types (%{NAME:field:type}) apply in line parsers only: the captures of a 'matches' condition are text")
            }
            for case let name? in regex.groupNames { scope.captures.insert(name) }
            context.regexSources.append(
                RegexSource(source: operand.scalarText ?? regex.pattern, regex: regex, kind: .condition, location: operand.contentLocation))
            test = .matches(regex)
        default:
            guard let number = operand.number("'\(keyword)'", into: &diagnostics) else { return nil }
            switch keyword {
            case "gt": test = .greaterThan(number)
            case "gte": test = .greaterThanOrEqual(number)
            case "lt": test = .lessThan(number)
            default: test = .lessThanOrEqual(number)
            }
        }
        return .field(path: FieldPath(path), test: test, location: node.location)
    }

    static func intentCondition(
        from node: YAMLNode, at location: SourceLocation, scope: inout RuleScope, context: LoadContext, into diagnostics: inout Diagnostics
    ) -> Condition? {
        var nameNode = node
        var minimum: Int?
        var field = "payload.text"
        if node.entries != nil {
            guard let fields = node.fields(of: "an intent condition", allowed: ["name", "min_score", "field"], required: ["name"], into: &diagnostics),
                let name = fields["name"]
            else { return nil }
            nameNode = name
            if let score = fields["min_score"], let value = score.number("'min_score'", in: 0...1, into: &diagnostics) {
                minimum = Int((value * 1000).rounded())
            }
            if let fieldNode = fields["field"], let text = fieldNode.string("'field'", into: &diagnostics) {
                guard checkFieldPath(text, at: fieldNode.contentLocation, into: &diagnostics) else { return nil }
                field = text
            }
        }
        guard let name = nameNode.string("the intent name", into: &diagnostics) else { return nil }
        let known = context.recognizer.definitions.map(\.name)
        guard known.contains(name) else {
            // One error, not its echo: templates of the rule may still use the intent's fields.
            scope.intents.append(name)
            if known.isEmpty {
                diagnostics.error(
                    at: nameNode.contentLocation,
                    "undefined intent '\(name)': the rule set defines no intents — is the file with its 'intents:' section among the "
                        + "paths given? (name the directory, as in 'rules/support', to load every file of the rule set)")
            } else {
                diagnostics.error(at: nameNode.contentLocation, "undefined intent '\(name)'\(NameSuggestion.hint(for: name, in: known))")
            }
            return nil
        }
        scope.intents.append(name)
        return .intent(name: name, minimumScore: minimum, field: FieldPath(field), location: location)
    }

    /// The type patterns of an `on:` (one pattern or a list), each invalid one reported where it is written.
    static func typePatterns(_ on: YAMLNode, into diagnostics: inout Diagnostics) -> [TypePattern] {
        guard let entries = on.stringList("'on'", into: &diagnostics) else { return [] }
        if entries.isEmpty { diagnostics.error(at: on.location, "'on' needs at least one type pattern") }
        var patterns: [TypePattern] = []
        for (text, entryNode) in entries {
            do {
                patterns.append(try TypePattern(text))
            } catch let error as EventsError {
                diagnostics.error(at: entryNode.contentLocation, error.message.lowercasedFirst.droppingFinalPeriod)
            } catch {}
        }
        return patterns
    }

    /// Operands that load but rarely mean what was written: a `{{ … }}` template (conditions
    /// compare with the text as written; templates are rendered in actions only), and YAML 1.1's
    /// booleans `yes`/`no`/`on`/`off` (read as text here, where YAML 1.2 applies).
    static func warnAboutOperand(_ operand: YAMLNode, keyword: String, into diagnostics: inout Diagnostics) {
        for scalar in operand.items ?? [operand] {
            guard case .scalar(let value) = scalar.node else { continue }
            if value.string.contains("{{") && value.string.contains("}}") {
                diagnostics.warning(
                    at: scalar.contentLocation,
                    "'\(keyword)' compares with the text '\(value.string)' as written: conditions do not render {{ … }} templates "
                        + "(to compare two fields, match one in 'when' and test the other in a rule on the derived event)")
            } else if value.style == .plain, ["yes", "no", "on", "off", "y", "n"].contains(value.string.lowercased()) {
                if let flag = scalar.node.bool {
                    diagnostics.warning(
                        at: scalar.contentLocation,
                        "'\(value.string)' is read as the boolean \(flag) (YAML 1.1's spelling): write \(flag) to say so, "
                            + "or quote it ('\(value.string)') if you mean the text")
                } else {
                    diagnostics.warning(
                        at: scalar.contentLocation,
                        "'\(value.string)' is read as the text \"\(value.string)\", not a boolean: write true or false for a boolean, "
                            + "or quote it ('\(value.string)') to say you mean the text")
                }
            }
        }
    }

    static func checkFieldPath(_ path: String, at location: SourceLocation, into diagnostics: inout Diagnostics) -> Bool {
        guard let segments = FieldPathSyntax.segments(of: path), let root = segments.first else {
            diagnostics.error(at: location, "field '\(path)' is not a dotted path such as payload.status or payload.items[0].id")
            return false
        }
        guard fieldRoots.contains(root) else {
            diagnostics.error(at: location, "field '\(path)' refers to nothing: paths start with \(fieldRoots.map { "'\($0)'" }.joined(separator: ", "))\(NameSuggestion.hint(for: root, in: fieldRoots))")
            return false
        }
        if root != "payload" && segments.count > 1 {
            diagnostics.error(at: location, "field '\(path)': '\(root)' has no fields")
            return false
        }
        return true
    }

    // MARK: Actions

    static func action(from node: YAMLNode, scope: RuleScope, into diagnostics: inout Diagnostics) -> Action? {
        if let text = node.scalarText, node.entries == nil, node.items == nil {
            if text == "stop" { return .stop(location: node.location) }
            if Action.kinds.contains(text) {
                // A known action written bare, as `stop` may be: it needs its value.
                let example = text == "audit" ? "audit: MESSAGE" : text == "delay" ? "delay: {after: 5m, type: TYPE}" : "\(text): {type: TYPE}"
                diagnostics.error(at: node.location, "action '\(text)' needs a value: write '- \(example)'")
                return nil
            }
            diagnostics.error(at: node.location, "unknown action '\(text)'\(NameSuggestion.hint(for: text, in: Action.kinds))")
            return nil
        }
        guard let entries = node.entries, entries.count == 1, let entry = entries.first else {
            diagnostics.error(at: node.location, "an action is a mapping with exactly one of \(Action.kinds.joined(separator: ", ")), e.g. '- publish: {type: a.b}'")
            return nil
        }
        let location = entry.keyNode.location
        switch entry.key {
        case "publish", "emit":
            guard let template = eventTemplate(from: entry.value, extraKeys: [], scope: scope, into: &diagnostics)?.template else { return nil }
            return entry.key == "publish" ? .publish(template, location: location) : .emit(template, location: location)
        case "delay":
            guard let (template, fields) = eventTemplate(
                from: entry.value, extraKeys: ["after", "at"] + delayKeyKeys, scope: scope, into: &diagnostics)
            else { return nil }
            let keyed = delayKey(fields, scope: scope, into: &diagnostics)
            if keyed == nil, fields["key"] != nil { return nil }
            let after = fields["after"]
            let at = fields["at"]
            if (after == nil) == (at == nil) {
                diagnostics.error(at: entry.value.location, "'delay' needs exactly one of 'after' (a duration such as 24h) or 'at' (an RFC 3339 time)")
                return nil
            }
            if let after {
                guard let text = after.string("'after'", into: &diagnostics) else { return nil }
                guard let duration = DurationParser.parse(text) else {
                    diagnostics.error(at: after.contentLocation, DurationParser.problem(text))
                    return nil
                }
                return .delay(template, after: duration, at: nil, key: keyed, location: location)
            }
            guard let atNode = at, let time = self.template(atNode, what: "'at'", scope: scope, into: &diagnostics) else { return nil }
            if time.isLiteral, TimestampParser.parse(time.source) == nil {
                diagnostics.error(at: atNode.contentLocation, "'at' must be an RFC 3339 time such as 2026-12-01T09:00:00Z, not '\(time.source)'")
                return nil
            }
            return .delay(template, after: nil, at: time, key: keyed, location: location)
        case "audit":
            let messageNode: YAMLNode
            if entry.value.entries != nil {
                guard let fields = entry.value.fields(of: "'audit'", allowed: ["message"], required: ["message"], into: &diagnostics),
                    let message = fields["message"]
                else { return nil }
                messageNode = message
            } else {
                messageNode = entry.value
            }
            guard let message = template(messageNode, what: "the audit message", scope: scope, into: &diagnostics) else { return nil }
            return .audit(message: message, location: location)
        case "cancel":
            return cancelAction(entry.value, scope: scope, location: location, into: &diagnostics)
        case "exec":
            return execAction(entry.value, scope: scope, location: location, into: &diagnostics)
        case "http":
            return httpAction(entry.value, scope: scope, location: location, into: &diagnostics)
        case "file":
            return fileAction(entry.value, scope: scope, location: location, into: &diagnostics)
        case "stop":
            if !entry.value.isNull, entry.value.node.bool != true {
                diagnostics.error(at: entry.value.location, "'stop' takes no value (or 'true')")
                return nil
            }
            return .stop(location: location)
        default:
            diagnostics.error(at: location, "unknown action '\(entry.key)'\(NameSuggestion.hint(for: entry.key, in: Action.kinds))")
            return nil
        }
    }

    static func eventTemplate(
        from node: YAMLNode, extraKeys: [String], scope: RuleScope, into diagnostics: inout Diagnostics
    ) -> (template: EventTemplate, fields: [String: YAMLNode])? {
        guard let fields = node.fields(of: "the derived event", allowed: eventKeys + extraKeys, required: ["type"], into: &diagnostics),
            let typeNode = fields["type"], let type = template(typeNode, what: "'type'", scope: scope, into: &diagnostics)
        else { return nil }
        if type.isLiteral {
            do {
                try EventType.validate(type.source)
            } catch let error as EventsError {
                diagnostics.error(at: typeNode.contentLocation, error.message.lowercasedFirst.droppingFinalPeriod)
                return nil
            } catch {}
        }
        var priority: Int?
        if let priorityNode = fields["priority"] {
            guard let text = priorityNode.scalarText, let value = Int(text), Event.priorities.contains(value) else {
                diagnostics.error(at: priorityNode.location, "'priority' of a derived event must be a whole number from 0 to 9")
                return nil
            }
            priority = value
        }
        var payload = PayloadTemplate.value([:])
        if let payloadNode = fields["payload"] {
            guard payloadNode.entries != nil else {
                diagnostics.error(at: payloadNode.location, "'payload' must be a mapping, not \(payloadNode.kindDescription)")
                return nil
            }
            guard let built = payloadTemplate(payloadNode, scope: scope, into: &diagnostics) else { return nil }
            payload = built
        }
        return (EventTemplate(type: type, payload: payload, priority: priority), fields)
    }

    static func payloadTemplate(_ node: YAMLNode, scope: RuleScope, into diagnostics: inout Diagnostics) -> PayloadTemplate? {
        if let entries = node.entries {
            var members: [String: PayloadTemplate] = [:]
            var ok = true
            for entry in entries {
                if let value = payloadTemplate(entry.value, scope: scope, into: &diagnostics) { members[entry.key] = value } else { ok = false }
            }
            return ok ? .object(members) : nil
        }
        if let items = node.items {
            let values = items.compactMap { payloadTemplate($0, scope: scope, into: &diagnostics) }
            return values.count == items.count ? .array(values) : nil
        }
        if case .string = jsonValue(node), let text = node.scalarText, text.contains("{{") {
            return template(node, what: "a payload value", scope: scope, into: &diagnostics).map(PayloadTemplate.template)
        }
        return jsonValue(node, into: &diagnostics).map(PayloadTemplate.value)
    }

    /// A template from a string node, with every placeholder checked against what the rule defines.
    static func template(_ node: YAMLNode, what: String, scope: RuleScope, into diagnostics: inout Diagnostics) -> Template? {
        guard let text = node.string(what, into: &diagnostics) else { return nil }
        let template: Template
        switch Template.parse(text) {
        case .success(let parsed): template = parsed
        case .failure(let problem):
            diagnostics.error(at: node.contentLocation.advanced(byColumns: problem.offset), "invalid template: \(problem.message)")
            return nil
        }
        var ok = true
        for part in template.parts {
            guard case .placeholder(let path, let column, _) = part else { continue }
            if let problem = placeholderProblem(path, scope: scope) {
                diagnostics.error(at: node.contentLocation.advanced(byColumns: column), problem)
                ok = false
            }
        }
        return ok ? template : nil
    }

    static func placeholderProblem(_ path: [String], scope: RuleScope) -> String? {
        let text = path.joined(separator: ".")
        let root = path[0]
        guard Template.roots.contains(root) else {
            return "template references '\(text)', which is nothing\(NameSuggestion.hint(for: root, in: Template.roots))"
        }
        switch root {
        case "payload":
            return nil
        case "window", "throttle", "after":
            return gateProblem(path, scope: scope)
        case "captures":
            guard path.count == 2 else { return "template '\(text)' must name one capture, e.g. captures.ip" }
            guard scope.captures.contains(path[1]) else {
                if scope.discardedCaptures.contains(path[1]) {
                    return "template references '\(text)', but '\(path[1])' is captured only inside 'not', whose captures are discarded "
                        + "(that condition holds only when its regex does not match)"
                }
                let known = scope.captures.sorted()
                return known.isEmpty
                    ? "template references '\(text)', but the rule's conditions capture nothing (use a 'matches' regex with a named group such as (?<\(path[1])>…))"
                    : "template references '\(text)', but the rule's regexes capture only \(known.map { "'\($0)'" }.joined(separator: ", "))\(NameSuggestion.hint(for: path[1], in: known))"
            }
            return nil
        case "intent":
            guard !scope.intents.isEmpty else {
                return "template references '\(text)', but the rule has no 'intent' condition"
            }
            switch path.count > 1 ? path[1] : "" {
            case "name", "score":
                return path.count == 2 ? nil : "template '\(text)' has too many segments"
            case "slots":
                return path.count == 3 ? nil : "template '\(text)' must name one slot, e.g. intent.slots.order"
            default:
                return "template references '\(text)', which is nothing: use intent.name, intent.score or intent.slots.<name>"
            }
        default:
            return path.count == 1 ? nil : "template references '\(text)', but '\(root)' has no fields"
        }
    }

    /// `jsonValue(_:)`, refusing YAML's `.inf`, `-.inf` and `.nan` (JSON has no such numbers)
    /// with a located error.
    public static func jsonValue(_ node: YAMLNode, into diagnostics: inout Diagnostics) -> JSONValue? {
        var finite = true
        func check(_ node: YAMLNode) {
            if let entries = node.entries { return entries.forEach { check($0.value) } }
            if let items = node.items { return items.forEach(check) }
            if case .scalar(let scalar) = node.node, scalar.style == .plain, node.node.int == nil, let number = node.node.float, !number.isFinite {
                diagnostics.error(
                    at: node.location, "'\(node.scalarText ?? "")' is not a JSON number (JSON has no infinity or NaN); quote it if you mean the text")
                finite = false
            }
        }
        check(node)
        guard finite else { return nil }  // (a ternary's `nil` would be JSONValue's nil literal, `.null`)
        return jsonValue(node)
    }

    /// A YAML node as JSON: plain scalars by YAML's rules (null, booleans, numbers), quoted scalars as strings.
    static func jsonValue(_ node: YAMLNode) -> JSONValue {
        if let entries = node.entries {
            return .object(Dictionary(entries.map { ($0.key, jsonValue($0.value)) }, uniquingKeysWith: { first, _ in first }))
        }
        if let items = node.items { return .array(items.map(jsonValue)) }
        // Plain scalars take the value YAML gives them (Yams' own reading, so 0x1F, 1_000 and 0o17
        // are the numbers YAML means); quoted scalars stay strings.
        if case .scalar(let scalar) = node.node, scalar.style == .plain {
            if node.node.null != nil { return .null }
            if let flag = node.node.bool { return .bool(flag) }
            if let integer = node.node.int { return .int(Int64(integer)) }
            if let number = node.node.float { return .double(number) }
        }
        return .string(node.scalarText ?? "")
    }
}

extension String {
    var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
    var droppingFinalPeriod: String { hasSuffix(".") ? String(dropLast()) : self }
}
