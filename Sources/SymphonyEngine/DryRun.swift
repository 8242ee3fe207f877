import HeapModule
import SymphonyEvents
import SymphonyRules
import SymphonyRecords

/// Shows what a rule set would do with events, executing nothing and writing nothing.
///
/// For each input event: which rules apply to its type, which match and which do not (with the
/// first failing condition), and the actions that would run with their templates rendered.
/// Re-published and delayed events are followed on a virtual clock — a delay moves the clock, it
/// never sleeps — until the chain ends, the hop limit stops it, or `stepLimit` events were traced.
/// The input event's derived-event budget applies as in a run: past `derivedEventBudget` events
/// derived by `publish` and `delay`, such actions would fail.
public struct DryRun: Sendable {
    /// One rule's verdict on one event.
    public struct RuleReport: Sendable {
        public let rule: String
        public let salience: Int
        public let matched: Bool
        public let failure: String?
        public let actions: [ActionReport]
    }

    /// An action that would run, rendered.
    public struct ActionReport: Sendable {
        public let kind: ActionKind
        public let derived: Event?
        public let due: Timestamp?
        public let message: String?
        public let error: String?
        /// What a side effect (`exec`, `http`, `file`) would run — shown, never run.
        public var request: ActionRequest? = nil
    }

    /// One traced event: the input event (hop 0) or a derived one.
    public struct Step: Sendable {
        public let event: Event
        /// Virtual time at which the event is processed.
        public let at: Timestamp
        public let rules: [RuleReport]
        /// The rule whose `stop` ended evaluation, if any.
        public let stoppedBy: String?
        /// What else the event did: keyed delays its `unless:` cancelled.
        public let notes: [String]
    }

    /// The rules.
    public let ruleSet: RuleSet
    /// The longest chain followed.
    public let hopLimit: Int
    /// The most events traced from one input event.
    public let stepLimit: Int
    /// The most events one input event may derive by `publish` and `delay` (as in `RuleEngine`).
    public let derivedEventBudget: Int
    /// The `count:` and `throttle:` state, kept across the traced events (on their event times).
    public let gates: RuleGates
    /// Where derived events get their ids; nil: the process-wide generator (random prefix).
    public let eventIDs: EventIDGenerator?
    /// Keyed delays not yet fired, kept across the traced events.
    private let keyedDelays = DryRunKeyedDelays()
    private let unlessWatchers: UnlessWatchers

    /// A dry run of `ruleSet`; `eventIDs` gives derived events repeatable ids (rule tests).
    public init(
        ruleSet: RuleSet, hopLimit: Int = RuleEngine.defaultHopLimit, stepLimit: Int = 1_000,
        derivedEventBudget: Int = RuleEngine.defaultDerivedEventBudget, eventIDs: EventIDGenerator? = nil
    ) {
        self.ruleSet = ruleSet
        self.eventIDs = eventIDs
        self.hopLimit = hopLimit
        self.stepLimit = stepLimit
        self.derivedEventBudget = derivedEventBudget
        self.gates = RuleGates(ruleSet: ruleSet)
        self.unlessWatchers = UnlessWatchers(ruleSet: ruleSet)
    }

    private struct Pending: Comparable {
        let at: Timestamp
        let sequence: Int
        let event: Event
        static func < (lhs: Pending, rhs: Pending) -> Bool { (lhs.at, lhs.sequence) < (rhs.at, rhs.sequence) }
        static func == (lhs: Pending, rhs: Pending) -> Bool { lhs.at == rhs.at && lhs.sequence == rhs.sequence }
    }

    /// Traces `event` and everything it would cause, in virtual-time order.
    public func trace(_ event: Event) -> [Step] {
        traceReport(event).steps
    }

    /// `trace(_:)`, and whether it stopped at `stepLimit` with events still to follow.
    /// Keyed delays that came due before `event` (on the virtual clock) are traced first.
    public func traceReport(_ event: Event) -> (steps: [Step], truncated: Bool) {
        var queue = Heap<Pending>()
        var sequence = 0
        queue.insert(Pending(at: event.time, sequence: sequence, event: event))
        for due in keyedDelays.takeDue(upTo: event.time) {
            sequence += 1
            queue.insert(Pending(at: due.due, sequence: sequence, event: due.event))
        }
        return follow(queue, sequence: sequence, rootID: event.id)
    }

    /// Traces every keyed delay still pending, each with what it causes, as the run would when
    /// they come due (call it once the input has ended).
    public func tracePendingKeyedDelays() -> [(steps: [Step], truncated: Bool)] {
        keyedDelays.takeDue(upTo: nil).map { due in
            var queue = Heap<Pending>()
            queue.insert(Pending(at: due.due, sequence: 0, event: due.event))
            return follow(queue, sequence: 0, rootID: due.event.id)
        }
    }

    private func follow(_ start: Heap<Pending>, sequence start0: Int, rootID: String) -> (steps: [Step], truncated: Bool) {
        var queue = start
        var sequence = start0
        var steps: [Step] = []
        var budget = Budget(rootID: rootID, limit: derivedEventBudget)
        while steps.count < stepLimit, let next = queue.popMin() {
            let (step, derived) = evaluate(next.event, at: next.at, budget: &budget)
            steps.append(step)
            for (event, due) in derived {
                sequence += 1
                queue.insert(Pending(at: due, sequence: sequence, event: event))
            }
        }
        return (steps, !queue.isEmpty)
    }

    /// The input event's derived-event budget, counted along one trace.
    private struct Budget {
        let rootID: String
        let limit: Int
        var used = 0
    }

    private func evaluate(_ event: Event, at now: Timestamp, budget: inout Budget) -> (Step, [(Event, Timestamp)]) {
        var evaluator = RuleEvaluator(recognizer: ruleSet.recognizer, mode: .explain)
        var reports: [RuleReport] = []
        var derived: [(Event, Timestamp)] = []
        var stoppedBy: String?
        for rule in ruleSet.rules(for: event.type) {
            let match = evaluator.evaluate(rule, on: event)
            guard match.matched else {
                reports.append(RuleReport(rule: rule.name, salience: rule.salience, matched: false, failure: match.failure, actions: []))
                continue
            }
            var context = TemplateContext(event: event, rule: rule.name, captures: match.captures, intent: match.intent)
            if rule.isStateful {
                switch gates.admit(rule, context: context) {
                case .hold(let reason, _, _):
                    reports.append(RuleReport(rule: rule.name, salience: rule.salience, matched: false, failure: reason, actions: []))
                    continue
                case .fire(let fields):
                    context.gates = fields
                }
            }
            var actions: [ActionReport] = []
            for action in rule.actions {
                actions.append(render(action, context: context, now: now, derived: &derived, budget: &budget))
            }
            reports.append(RuleReport(rule: rule.name, salience: rule.salience, matched: true, failure: nil, actions: actions))
            if rule.stops {
                stoppedBy = rule.name
                break
            }
        }
        gates.observe(event)
        var notes: [String] = []
        let unlessContext = TemplateContext(event: event, rule: "", captures: Captures(), intent: nil)
        for watch in unlessWatchers.watches(for: event.type) {
            let key = watch.key.render(unlessContext)
            if let cancelled = keyedDelays.cancel(key: key, madeBy: watch.rule, sparing: event.id) {
                notes.append("unless \(watch.on): cancels the pending delay of key \(key) (\(cancelled.type) \(cancelled.id), rule '\(watch.rule)')")
            }
        }
        return (Step(event: event, at: now, rules: reports, stoppedBy: stoppedBy, notes: notes), derived)
    }

    private func render(
        _ action: Action, context: TemplateContext, now: Timestamp, derived: inout [(Event, Timestamp)], budget: inout Budget
    ) -> ActionReport {
        let hop = (context.event.causation?.hop ?? 0) + 1
        func report(derived event: Event? = nil, due: Timestamp? = nil, message: String? = nil, error: String? = nil) -> ActionReport {
            ActionReport(kind: action.kind, derived: event, due: due, message: message, error: error)
        }
        do {
            switch action {
            case .publish(let template, _), .emit(let template, _), .delay(let template, _, _, _, _):
                guard hop <= hopLimit else {
                    return report(error: "hop limit \(hopLimit) reached; the chain stops here")
                }
                var due = now
                if case .delay(_, let after, let at, _, _) = action {
                    due = try RuleEngine.due(after: after, at: at, context: context, now: now)
                }
                var event = try RuleEngine.derive(template, context: context, hop: hop, time: due)
                if let eventIDs { event.id = eventIDs.next() }
                if case .emit = action {
                    return report(derived: event)
                }
                guard budget.used < budget.limit else {
                    return report(error: DerivationLedger.exhaustedMessage(limit: budget.limit, rootID: budget.rootID))
                }
                budget.used += 1
                if case .delay(_, _, _, let keyed?, _) = action {
                    // Kept on the virtual clock until it is due: a later event may cancel or replace it.
                    let key = keyed.key.render(context)
                    let (replaced, kept) = keyedDelays.schedule(event, due: due, key: key, rule: context.rule, whenPending: keyed.whenPending)
                    if let kept {
                        budget.used -= 1
                        return report(message: "key \(key): kept the pending \(kept.id); nothing scheduled")
                    }
                    return report(derived: event, due: due, message: "key \(key)" + (replaced.map { ": replaced the pending \($0.id)" } ?? ""))
                }
                derived.append((event, due))
                return report(derived: event, due: action.kind == .delay ? due : nil)
            case .audit(let message, _):
                return report(message: message.render(context))
            case .cancel(let keyTemplate, let rule, _):
                let key = keyTemplate.render(context)
                guard let cancelled = keyedDelays.cancel(key: key, madeBy: rule) else { return report(message: "key \(key): nothing pending") }
                return report(message: "key \(key): cancelled \(cancelled.id)")
            case .stop:
                return report()
            case .exec, .http, .file:
                var shown = report(message: "not run (dry run)")
                shown.request = try RuleEngine.sideEffectRequest(action, context: context)
                return shown
            }
        } catch {
            return report(error: "\(error)")
        }
    }
}
