import SymphonyDiagnostics
import SymphonyEvents

/// Checks over a whole rule set: re-publish cycles, templated types that can re-trigger their own
/// rule, rules shadowed by a `stop`, `on` types one typo away from a published type
/// (`StaticChecks+Types.swift`), and regexes that match every text, backtrack catastrophically
/// or (intent patterns) escape the pre-filter (`StaticChecks+Regexes.swift`).
public enum StaticChecks {
    /// Runs every check and records its findings.
    public static func run(on ruleSet: RuleSet, into diagnostics: inout Diagnostics) {
        findCycles(in: ruleSet, into: &diagnostics)
        findTemplatedSelfTriggers(in: ruleSet, into: &diagnostics)
        findShadowedRules(in: ruleSet, into: &diagnostics)
        findMisspeltTypes(in: ruleSet, into: &diagnostics)
        checkRegexes(ruleSet.regexSources, into: &diagnostics)
        checkIntentPatterns(ruleSet.recognizer.definitions, into: &diagnostics)
    }

    // MARK: Cycles

    /// Re-publish edges: rule → (published type, rules that type triggers). Delays break cycles; emits leave the system.
    static func findCycles(in ruleSet: RuleSet, into diagnostics: inout Diagnostics) {
        var edges: [Int: [(type: String, target: Int, location: SourceLocation?)]] = [:]
        for (index, rule) in ruleSet.rules.enumerated() {
            for action in rule.actions {
                guard case .publish(let template, let location) = action, template.type.isLiteral else { continue }
                let type = template.type.source
                for target in ruleSet.rules(for: type) {
                    edges[index, default: []].append((type, target.order, location))
                }
            }
        }
        var reported = Set<[Int]>()
        var path: [(rule: Int, type: String, location: SourceLocation?)] = []
        var onPath = Set<Int>()
        var finished = Set<Int>()
        func visit(_ rule: Int) {
            onPath.insert(rule)
            for edge in edges[rule] ?? [] {
                path.append((rule, edge.type, edge.location))
                if onPath.contains(edge.target) {
                    let start = path.firstIndex { $0.rule == edge.target }!
                    let cycle = Array(path[start...])
                    let members = cycle.map(\.rule)
                    let canonical = members.sorted()
                    if reported.insert(canonical).inserted {
                        let names = cycle.map { "rule '\(ruleSet.rules[$0.rule].name)' publishes '\($0.type)'" }
                        diagnostics.error(
                            at: cycle[0].location,
                            "re-publish cycle without a delay: \(names.joined(separator: " → ")) → rule '\(ruleSet.rules[edge.target].name)'; "
                                + "use 'delay' for one of these, or publish a type that does not trigger the loop")
                    }
                } else if !finished.contains(edge.target) {
                    visit(edge.target)
                }
                path.removeLast()
            }
            onPath.remove(rule)
            finished.insert(rule)
        }
        for index in ruleSet.rules.indices where !finished.contains(index) { visit(index) }
    }

    // MARK: Templated self-triggers

    /// A `publish` or `delay` whose type is a template that can render to a type the rule's own
    /// `on` matches: the cycle check follows literal types only, so this is the warning for
    /// `type: "{{ type }}"` and its kin (a fan-out that only the run-time limits end).
    static func findTemplatedSelfTriggers(in ruleSet: RuleSet, into diagnostics: inout Diagnostics) {
        for rule in ruleSet.rules {
            for action in rule.actions {
                let template: EventTemplate
                let verb: String
                switch action {
                case .publish(let published, _):
                    (template, verb) = (published, "publishes")
                case .delay(let delayed, _, _, _, _):
                    (template, verb) = (delayed, "delays")
                default:
                    continue
                }
                guard !template.type.isLiteral,
                    rule.on.contains(where: { TemplateTypeOverlap.canRender(template.type, toMatch: $0) })
                else { continue }
                diagnostics.warning(
                    at: action.location,
                    "rule '\(rule.name)' \(verb) type '\(template.type.source)', a template that can render to a type its own 'on' matches, "
                        + "so it can re-trigger its own rule; the cycle check cannot follow templated types, and at run time only the hop limit "
                        + "and the derived-event budget end such a chain")
            }
        }
    }

    // MARK: Shadowing

    static func findShadowedRules(in ruleSet: RuleSet, into diagnostics: inout Diagnostics) {
        for shadowed in ruleSet.rules {
            for stopper in ruleSet.rules where stopper.order != shadowed.order && stopper.stops && stopper.when == nil {
                let runsFirst = stopper.salience > shadowed.salience || (stopper.salience == shadowed.salience && stopper.order < shadowed.order)
                guard runsFirst else { continue }
                let covered = shadowed.on.allSatisfy { pattern in stopper.on.contains { covers($0.segments[...], pattern.segments[...]) } }
                if covered {
                    diagnostics.warning(
                        at: shadowed.location,
                        "rule '\(shadowed.name)' can never run: rule '\(stopper.name)' runs before it on every event it matches, has no 'when', and stops")
                    break
                }
            }
        }
    }

    /// True when every type matching `inner` also matches `outer`.
    static func covers(_ outer: ArraySlice<TypePattern.Segment>, _ inner: ArraySlice<TypePattern.Segment>) -> Bool {
        guard let first = outer.first else { return inner.isEmpty }
        if first == .anyMany {
            return covers(outer.dropFirst(), inner) || (!inner.isEmpty && covers(outer, inner.dropFirst()))
        }
        guard let innerFirst = inner.first, innerFirst != .anyMany else { return false }
        switch first {
        case .anyOne: return covers(outer.dropFirst(), inner.dropFirst())
        case .literal(let name):
            guard innerFirst == .literal(name) else { return false }
            return covers(outer.dropFirst(), inner.dropFirst())
        case .anyMany: return false
        }
    }
}
