import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyRules

/// Runs rule tests: each test's input goes through a dry run of the rule set of its own (fresh
/// `count:`/`throttle:` state and keyed delays) on a virtual clock — a delay of two days moves
/// the clock, it never sleeps — and what happened is held against the expectations.
public struct RuleTestRunner: Sendable {
    /// The rules under test.
    public let ruleSet: RuleSet

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
    }

    /// Runs one test.
    public func run(_ test: RuleTestCase) -> RuleTestResult {
        let dryRun = DryRun(ruleSet: ruleSet, eventIDs: EventIDGenerator(prefix: "d"))
        var steps: [DryRun.Step] = []
        var truncated = false
        for input in test.inputs {
            let report = dryRun.traceReport(event(for: input))
            steps += report.steps
            truncated = truncated || report.truncated
        }
        // Keyed delays still pending fire when the input has ended, as they would in a run.
        for report in dryRun.tracePendingKeyedDelays() {
            steps += report.steps
            truncated = truncated || report.truncated
        }
        let observations = steps.flatMap(Self.observations)
        var failures: [String] = []
        for expectation in test.expectations {
            let found = observations.filter { expectation.matches($0, start: test.start) }.count
            let holds = expectation.count.map { found == $0 } ?? (found > 0)
            guard !holds else { continue }
            var text = "expected \(expectation.summary)" + (expectation.location.map { " (\($0))" } ?? "")
            text += "\n  found \(found == 0 ? "none" : "\(found)")"
            if let rule = expectation.rule, found < (expectation.count ?? 1) {
                text += whyNot(rule, steps: steps, observations: observations, start: test.start)
            }
            failures.append(text)
        }
        for forbidden in test.forbidden {
            let matched = observations.filter { forbidden.matches($0, start: test.start) }
            guard !matched.isEmpty else { continue }
            var text = "expected no \(forbidden.summary)" + (forbidden.location.map { " (\($0))" } ?? "")
            text += "\n  found \(matched.count):"
            for observation in matched.prefix(5) { text += "\n    " + observation.line(start: test.start) }
            failures.append(text)
        }
        if truncated && !failures.isEmpty {
            failures.append("the dry run stopped following a chain at \(dryRun.stepLimit) events; later events are not in this test's outcome")
        }
        return RuleTestResult(name: test.name, location: test.location, failures: failures, observations: observations, start: test.start)
    }

    /// The event an input becomes: a line read by the rule set's parser for its type, as `run --lines` reads it.
    private func event(for input: RuleTestInput) -> Event {
        switch input {
        case .event(let event):
            return event
        case .line(let type, let text, let id, let time):
            guard let parser = ruleSet.lineParsers[type] else { return Event(type: type, payload: ["message": .string(text)], id: id, time: time) }
            let decoded = parser.decode(text, reference: time)
            return Event(type: type, payload: decoded.payload, id: id, time: decoded.time ?? time)
        }
    }

    /// A step's firings and actions.
    private static func observations(_ step: DryRun.Step) -> [RuleTestObservation] {
        var observations = [
            RuleTestObservation(rule: nil, action: nil, at: step.at, trigger: step.event, derived: nil, due: nil, message: nil, error: nil)
        ]
        for report in step.rules where report.matched {
            observations.append(
                RuleTestObservation(rule: report.rule, action: nil, at: step.at, trigger: step.event, derived: nil, due: nil, message: nil, error: nil))
            for action in report.actions {
                observations.append(
                    RuleTestObservation(
                        rule: report.rule, action: action.kind, at: step.at, trigger: step.event, derived: action.derived, due: action.due,
                        message: action.message, error: action.error))
            }
        }
        return observations
    }

    /// Why `rule` did not do what was expected: what it did when it fired, else the dry run's
    /// reason for each event it saw (the first few), or that it saw none.
    private func whyNot(_ rule: String, steps: [DryRun.Step], observations: [RuleTestObservation], start: Timestamp) -> String {
        let own = observations.filter { $0.rule == rule }
        let firings = own.filter { $0.action == nil }.count
        if firings > 0 {
            var text = "\n  rule '\(rule)' fired \(firings) time\(firings == 1 ? "" : "s"); what it did:"
            for observation in own.filter({ $0.action != nil }).prefix(8) { text += "\n    " + observation.line(start: start) }
            return text
        }
        let misses = steps.compactMap { step -> String? in
            guard let report = step.rules.first(where: { $0.rule == rule && !$0.matched }) else { return nil }
            return "+\(RuleTestObservation.offset(start.duration(to: step.at))) \(step.event.type) (\(step.event.id)): \(report.failure ?? "did not match")"
        }
        if misses.isEmpty {
            let stopped = steps.filter { step in step.stoppedBy != nil && ruleSet.rules(for: step.event.type).contains { $0.name == rule } }
            if let first = stopped.first {
                return "\n  why not: rule '\(rule)' was skipped on \(first.event.type) (\(first.event.id)): rule '\(first.stoppedBy!)' stopped evaluation"
            }
            let types = Array(Set(steps.map(\.event.type))).sorted()
            let on = ruleSet.rule(named: rule)?.on.map(\.description).joined(separator: ", ") ?? "?"
            return "\n  why not: rule '\(rule)' (on \(on)) saw no event; the test's events were of types \(types.joined(separator: ", "))"
        }
        var text = "\n  why not: rule '\(rule)' did not fire on:"
        for miss in misses.prefix(5) { text += "\n    " + miss }
        if misses.count > 5 { text += "\n    … \(misses.count - 5) more" }
        return text
    }
}
