import SymphonyAccess
import SymphonyConcurrency
import SymphonyEvents
import SymphonyJSON
import SymphonyRules
import Synchronization
import SymphonyRecords

/// Runs a rule set on events: finds the rules for each event's type, tests their conditions in
/// salience order, and runs the actions of those that match, returning one outcome per action.
///
/// Derived events carry a causation link (parent id, rule) and a hop count; an action that would
/// derive an event beyond `hopLimit` hops fails instead, so a loop cannot run forever. Nor can a
/// fan-out: all the events derived from one input event, at any depth, by `publish` and `delay`,
/// draw on that input event's budget of `derivedEventBudget`; an action past it fails.
public final class RuleEngine: Sendable {
    /// The default longest chain of derived events.
    public static let defaultHopLimit = 16
    /// The default number of events one input event may derive, directly or transitively.
    public static let defaultDerivedEventBudget = 10_000

    /// The rules.
    public let ruleSet: RuleSet
    /// The longest chain of derived events.
    public let hopLimit: Int
    /// The most events one input event may derive (by `publish` and `delay`, at any depth).
    public var derivedEventBudget: Int { ledger.limit }
    /// Access control for the events actions publish.
    public let access: AccessGuard
    /// Who rules run as when neither `run_as` nor the rule set's `owner` says.
    public let defaultPrincipal: String
    /// Whether `exec`, `http` and `file` actions are queued to run, or only rendered and recorded
    /// as skipped (`symphony run --no-actions`).
    public let runsSideEffects: Bool
    private let effects: any ActionEffects
    private let clock: any SchedulerClock
    private let counters: EngineCounters
    private let ledger: DerivationLedger
    /// The state of the rules' `count:` and `throttle:` gates.
    public let gates: RuleGates
    private let unlessWatchers: UnlessWatchers

    /// An engine that sends side effects to `effects`, reads the time from `clock`, and checks
    /// each published or delayed event against `access` as the rule's principal. With
    /// `gateSource`, the gates' state is kept there instead of in memory (see `RuleGates`).
    public init(
        ruleSet: RuleSet, effects: any ActionEffects, clock: any SchedulerClock = SystemClock(), hopLimit: Int = RuleEngine.defaultHopLimit,
        derivedEventBudget: Int = RuleEngine.defaultDerivedEventBudget, access: AccessGuard = AccessGuard(policy: .allowAll),
        defaultPrincipal: String = "rules", runsSideEffects: Bool = true, gateSource: (any GateStateSource)? = nil
    ) {
        self.runsSideEffects = runsSideEffects
        self.ruleSet = ruleSet
        self.effects = effects
        self.clock = clock
        self.hopLimit = hopLimit
        self.ledger = DerivationLedger(limit: derivedEventBudget)
        self.counters = EngineCounters()
        self.gates = RuleGates(ruleSet: ruleSet, source: gateSource)
        self.unlessWatchers = UnlessWatchers(ruleSet: ruleSet)
        self.access = access
        self.defaultPrincipal = defaultPrincipal
    }

    /// An engine for `ruleSet` that takes over from `previous` (a reloaded rule set): the same
    /// effects, clock, limits, access and counters; the derived-event budgets of events in flight;
    /// and the state of each gate whose rule kept its name and its gate's settings.
    public init(ruleSet: RuleSet, replacing previous: RuleEngine) {
        self.ruleSet = ruleSet
        effects = previous.effects
        clock = previous.clock
        hopLimit = previous.hopLimit
        ledger = previous.ledger
        counters = previous.counters
        gates = RuleGates(ruleSet: ruleSet, carryingOver: previous.gates)
        unlessWatchers = UnlessWatchers(ruleSet: ruleSet)
        access = previous.access
        defaultPrincipal = previous.defaultPrincipal
        runsSideEffects = previous.runsSideEffects
    }

    /// Derived events published or scheduled but not yet processed. Each holds its input event's
    /// budget; when none is left, nothing is held for any input event.
    public var derivedEventsAwaitingProcessing: Int { ledger.awaitingCount }

    /// Forgets the budget entries of every derived event this engine made and has not processed.
    /// A cluster node calls it before each batch: what the last batch derived was handled in its
    /// transaction, stored in the shared database for any node to handle, or rolled back with it.
    public func forgetDerivedEvents() {
        ledger.removeAll()
    }

    /// The principal `rule`'s actions run as: its `run_as`, else the rule set's owner, else the default.
    public func principal(of rule: Rule) -> String {
        rule.runAs ?? ruleSet.owner ?? defaultPrincipal
    }

    /// Evaluates every applicable rule on `event` and runs the actions of those that match.
    ///
    /// A derived event is first checked again as the principal of the rule that made it: one
    /// delayed by an earlier run may arrive under a stricter policy. A refusal is the only outcome.
    @discardableResult
    public func process(_ event: Event) -> [ActionOutcome] {
        // The budget this event's derived events draw on: the one it was entered with, or (input
        // events, and derived ones without an entry) a fresh one, made when first needed.
        var budget = ledger.take(event)
        if let refusal = recheck(event) {
            counters.count(refusal)
            return [refusal]
        }
        var evaluator = RuleEvaluator(recognizer: ruleSet.recognizer)
        var outcomes: [ActionOutcome] = []
        for rule in ruleSet.rules(for: event.type) {
            var problems = 0
            let matched = StageTimes.shared.measure(.match) { evaluator.match(rule, on: event, problems: &problems) }
            if problems > 0 { counters.conditionProblems.add(problems, ordering: .relaxed) }
            guard let match = matched else { continue }
            var context = TemplateContext(event: event, rule: rule.name, captures: match.captures, intent: match.intent)
            if rule.isStateful {
                switch gates.admit(rule, context: context, explain: false) {
                case .hold(let reason, .suppressed, let key):
                    // A throttled event is visible in history: a `skipped` outcome of the rule's first action.
                    let now = clock.now()
                    var skipped = ActionOutcome(
                        eventID: event.id, eventType: event.type, rule: rule.name, action: rule.actions.first?.kind ?? .stop, status: .skipped,
                        error: nil, started: now, finished: now, derivedEvent: nil, due: nil, message: reason, principal: principal(of: rule))
                    skipped.key = key
                    outcomes.append(skipped)
                    continue
                case .hold: continue
                case .fire(let fields): context.gates = fields
                }
            }
            counters.rulesFired.add(1, ordering: .relaxed)
            let gateKey = rule.isStateful ? Self.gateKey(context.gates) : nil
            for index in rule.actions.indices {
                var outcome = StageTimes.shared.measure(.actions) { run(rule.actions[index], at: index, of: rule, context: context, budget: &budget) }
                if outcome.key == nil { outcome.key = gateKey }
                outcome.queued?.gateKey = outcome.key
                if outcome.queued == nil { counters.count(outcome) }  // a queued side effect counts when it ends
                outcomes.append(outcome)
            }
            if rule.stops { break }
        }
        gates.observe(event)
        outcomes += cancelUnless(for: event)
        return outcomes
    }

    /// The key a gated rule fired under: its throttle's, else its window's, else its pairing's.
    static func gateKey(_ gates: [String: [String: JSONValue]]) -> String? {
        for gate in ["throttle", "window", "after"] {
            if case .string(let key)? = gates[gate]?["key"] { return key }
        }
        return nil
    }

    /// The keys `event`'s `unless:` clauses would cancel the delays of.
    func unlessKeys(of event: Event) -> [String] {
        let watches = unlessWatchers.watches(for: event.type)
        guard !watches.isEmpty else { return [] }
        let context = TemplateContext(event: event, rule: "", captures: Captures(), intent: nil)
        return watches.map { $0.key.render(context) }
    }

    /// Cancels the pending keyed delays whose `unless:` `event` meets (same key); one `cancel`
    /// outcome, recorded under the delaying rule, per delay cancelled.
    private func cancelUnless(for event: Event) -> [ActionOutcome] {
        let watches = unlessWatchers.watches(for: event.type)
        guard !watches.isEmpty else { return [] }
        let context = TemplateContext(event: event, rule: "", captures: Captures(), intent: nil)
        var outcomes: [ActionOutcome] = []
        for watch in watches {
            let key = watch.key.render(context)
            let started = clock.now()
            func outcome(_ status: ActionOutcome.Status, message: String?, error: String?) -> ActionOutcome {
                ActionOutcome(
                    eventID: event.id, eventType: event.type, rule: watch.rule, action: .cancel, status: status, error: error,
                    started: started, finished: clock.now(), derivedEvent: nil, due: nil, message: message,
                    principal: ruleSet.rule(named: watch.rule).map(principal(of:)) ?? defaultPrincipal)
            }
            do {
                // An event never cancels a delay it made itself (its type may match both `on` and `unless`).
                guard let cancelled = try effects.cancelDelay(key: key, madeBy: watch.rule, sparing: event.id) else { continue }
                ledger.discard(cancelled)
                var cancel = outcome(.ok, message: "unless \(watch.on): key \(key): cancelled \(cancelled.id)", error: nil)
                cancel.key = key
                outcomes.append(cancel)
            } catch {
                outcomes.append(outcome(.failed, message: nil, error: "unless \(watch.on): key \(key): \(error)"))
            }
        }
        for outcome in outcomes { counters.count(outcome) }
        return outcomes
    }

    /// The longest window, period or `after` window among the rules' gates: how far back in
    /// event time `restoreGates(from:)` needs events. Nil when no rule has a gate.
    public var gateHorizon: Duration? {
        ruleSet.rules.compactMap { rule -> Duration? in
            [rule.count?.within, rule.throttle?.per, rule.after?.within].compactMap { $0 }.max()
        }.max()
    }

    /// Rebuilds the gates' state by passing `events` (recorded by earlier runs, in the order they
    /// were recorded) through the rules' conditions and gates without running any action: the
    /// state a run had when it stopped, under the current rules.
    public func restoreGates(from events: [Event]) {
        for event in events { restoreGates(with: event) }
    }

    private func restoreGates(with event: Event) {
        var evaluator = RuleEvaluator(recognizer: ruleSet.recognizer)
        for rule in ruleSet.rules(for: event.type) {
            let match = evaluator.evaluate(rule, on: event)
            guard match.matched else { continue }
            if rule.isStateful {
                let context = TemplateContext(event: event, rule: rule.name, captures: match.captures, intent: match.intent)
                guard case .fire = gates.admit(rule, context: context, counting: false, explain: false) else { continue }
            }
            if rule.stops { break }
        }
        gates.observe(event)
    }

    /// A `denied` outcome when `event` was derived by a rule whose principal may no longer publish its type.
    private func recheck(_ event: Event) -> ActionOutcome? {
        guard let causation = event.causation, !access.policy.allowsEverything else { return nil }
        let maker = ruleSet.rule(named: causation.rule).map(principal(of:)) ?? ruleSet.owner ?? defaultPrincipal
        do {
            try access.check(.publish(type: event.type), as: maker)
            return nil
        } catch {
            let now = clock.now()
            return ActionOutcome(
                eventID: event.id, eventType: event.type, rule: causation.rule, action: .publish, status: .denied, error: error.description,
                started: now, finished: now, derivedEvent: nil, due: nil, message: nil, principal: maker)
        }
    }

    /// What the engine has done so far.
    public var statistics: EngineStatistics { counters.snapshot() }

    private func run(_ action: Action, at index: Int, of rule: Rule, context: TemplateContext, budget: inout DerivationLedger.Budget?) -> ActionOutcome {
        let started = clock.now()
        let event = context.event
        /// Draws a unit for `derived` and runs `effect`; the unit and the entry go back if `effect` throws.
        func withinBudget<T>(_ derived: Event, _ effect: () throws -> T) throws -> T {
            let drawn = budget ?? DerivationLedger.Budget(rootID: event.id)
            budget = drawn
            try ledger.enter(derived, drawingOn: drawn)
            do {
                return try effect()
            } catch {
                ledger.withdraw(derived, from: drawn)
                throw error
            }
        }
        let principal = principal(of: rule)
        func outcome(_ status: ActionOutcome.Status, error: String? = nil, derived: Event? = nil, due: Timestamp? = nil, message: String? = nil) -> ActionOutcome {
            ActionOutcome(
                eventID: event.id, eventType: event.type, rule: rule.name, action: action.kind, status: status, error: error,
                started: started, finished: clock.now(), derivedEvent: derived, due: due, message: message, principal: principal)
        }
        do {
            switch action {
            case .publish(let template, _):
                let derived = try derive(template, context: context, source: rule.derivedSource)
                try access.check(.publish(type: derived.type), as: principal)
                var published = outcome(.ok, derived: derived)
                published.sealedDerivedEvent = try withinBudget(derived) { try effects.publish(derived) }
                return published
            case .delay(let template, let after, let at, let keyed, _):
                let due = try Self.due(after: after, at: at, context: context, now: clock.now())
                let derived = try derive(template, context: context, source: rule.derivedSource, at: due)
                try access.check(.publish(type: derived.type), as: principal)
                guard let keyed else {
                    var delayed = outcome(.ok, derived: derived, due: due)
                    delayed.sealedDerivedEvent = try withinBudget(derived) { try effects.schedule(derived, at: due) }
                    return delayed
                }
                let key = keyed.key.render(context)
                let result = try withinBudget(derived) { try effects.schedule(derived, at: due, key: key, whenPending: keyed.whenPending) }
                var delayed: ActionOutcome
                switch result {
                case .scheduled(let sealed):
                    delayed = outcome(.ok, derived: derived, due: due, message: "key \(key)")
                    delayed.sealedDerivedEvent = sealed
                case .replaced(let sealed, let cancelled):
                    ledger.discard(cancelled)
                    delayed = outcome(.ok, derived: derived, due: due, message: "key \(key): replaced the pending \(cancelled.id)")
                    delayed.sealedDerivedEvent = sealed
                case .kept(let pending):
                    ledger.discard(derived)  // entered for nothing: it was never scheduled
                    delayed = outcome(.ok, message: "key \(key): kept the pending \(pending.id); nothing scheduled")
                }
                delayed.key = key
                return delayed
            case .cancel(let keyTemplate, let madeBy, _):
                let key = keyTemplate.render(context)
                let cancelled = try effects.cancelDelay(key: key, madeBy: madeBy, sparing: nil)
                if let cancelled { ledger.discard(cancelled) }
                var result = outcome(.ok, message: cancelled.map { "key \(key): cancelled \($0.id)" } ?? "key \(key): nothing pending")
                result.key = key
                return result
            case .audit(let message, _):
                let text = message.render(context)
                try effects.audit(rule: rule.name, event: event, message: text)
                return outcome(.ok, message: text)
            case .emit(let template, _):
                let derived = try derive(template, context: context, source: rule.derivedSource)
                try effects.emit(derived)
                return outcome(.ok, derived: derived)
            case .stop:
                return outcome(.ok)
            case .exec, .http, .file:
                let request = try Self.sideEffectRequest(action, context: context)
                try checkSideEffect(request, as: principal)
                guard runsSideEffects else { return outcome(.skipped, message: "not run (--no-actions): \(request.summary)") }
                var queued = outcome(.ok, message: request.summary)
                queued.queued = OutboxEntry(
                    eventID: event.id, eventType: event.type, rule: rule.name, actionIndex: index, request: request, retry: rule.retry,
                    gateKey: nil, queued: started)
                return queued
            }
        } catch let denial as AccessDenied {
            if case .runProgram = denial.operation, access.policy.allowsEverything {
                return outcome(
                    .denied, error: denial.description + " (without --policy, exec actions are refused: run with a policy that grants actions:exec)")
            }
            return outcome(.denied, error: denial.description)
        } catch let error as ActionError {
            return outcome(.failed, error: error.message)
        } catch let error as EventsError {
            return outcome(.failed, error: error.message)
        } catch {
            return outcome(.failed, error: "\(error)")
        }
    }

    /// The request a side-effect action renders to for one event; throws when it cannot be made
    /// (an HTTP URL without a host, a file path with `..`, an empty program). Shared with the dry run.
    public static func sideEffectRequest(_ action: Action, context: TemplateContext) throws -> ActionRequest {
        switch action {
        case .exec(let template, _):
            let spec = template.render(context)
            guard let program = spec.command.first, !program.isEmpty else { throw ActionError("the program rendered to an empty string") }
            return .exec(spec)
        case .http(let template, _):
            let spec = template.render(context)
            guard spec.host.map({ !$0.isEmpty }) == true else { throw ActionError("the URL rendered to one without a host") }
            return .http(spec)
        case .file(let template, _):
            let spec = template.render(context)
            guard !spec.path.isEmpty else { throw ActionError("the path rendered to an empty string") }
            guard !spec.path.split(separator: "/").contains("..") else {
                throw ActionError("the path rendered to one with '..' (\(spec.path)); a file action may not leave the directories it names")
            }
            return .file(spec)
        default:
            throw ActionError("\(action.kind.name) is not a side effect")
        }
    }

    /// The permission check of a side effect: `actions:exec`, `actions:http:<host>` or `actions:file:<path>`.
    func checkSideEffect(_ request: ActionRequest, as principal: String) throws(AccessDenied) {
        switch request {
        case .exec(let spec): try access.check(.runProgram(spec.command.first ?? ""), as: principal)
        case .http(let spec): try access.check(.httpRequest(host: spec.host ?? ""), as: principal)
        case .file(let spec): try access.check(.appendFile(path: spec.path), as: principal)
        }
    }

    /// The derived event an action template describes, linked to its parent; throws past the hop limit.
    /// Its time is the parent's event time (a derived event happens when its cause did), or for a
    /// delay the time it is due, so rules with memory see replayed input as they saw it live.
    func derive(_ template: EventTemplate, context: TemplateContext, source: String, at time: Timestamp? = nil) throws -> Event {
        let hop = (context.event.causation?.hop ?? 0) + 1
        guard hop <= hopLimit else {
            throw ActionError(
                "hop limit \(hopLimit) reached: event \(context.event.id) is already \(hop - 1) derivations from its input event; the chain stops here")
        }
        return try Self.derive(template, context: context, hop: hop, time: time ?? context.event.time, source: source)
    }

    /// When a delay action's event is due: `after` from `now`, or the time `at` renders to (which
    /// must be RFC 3339). Shared with the dry run.
    static func due(after: Duration?, at: Template?, context: TemplateContext, now: Timestamp) throws -> Timestamp {
        if let after { return now.advanced(by: after) }
        let text = at?.render(context) ?? ""
        guard let parsed = TimestampParser.parse(text) else {
            throw ActionError("'at' rendered to '\(text)', which is not an RFC 3339 time")
        }
        return parsed
    }

    /// A derived event from a template (no hop check): shared with the dry run. Its `source` is
    /// `source`, by default `rule:` and the context's rule (`Rule.derivedSource`).
    public static func derive(_ template: EventTemplate, context: TemplateContext, hop: Int, time: Timestamp, source: String? = nil) throws -> Event {
        let type = template.type.render(context)
        do {
            try EventType.validate(type)
        } catch let error as EventsError {
            throw ActionError("the derived event's type rendered to '\(type)': \(error.message.prefix(1).lowercased() + error.message.dropFirst())")
        }
        // Rendered straight into the encoding the queue seals: no tree is built for it.
        var payload = EncodedPayload.Builder()
        template.payload.render(context, into: &payload)
        // Checked here, where dry runs and runs meet: the body encoding holds no deeper payload.
        guard payload.deepest <= EventBodyCodec.maximumDepth else {
            throw ActionError("the derived event's payload nests deeper than \(EventBodyCodec.maximumDepth) levels")
        }
        return Event(
            type: type, encodedPayload: payload.build(), priority: template.priority ?? context.event.priority,
            id: EventIDGenerator.shared.next(), source: source ?? Rule.derivedSource(ofRuleNamed: context.rule), time: time,
            causation: Causation(parentID: context.event.id, rule: context.rule, hop: hop))
    }
}

/// Why an action failed.
public struct ActionError: Error, Sendable, CustomStringConvertible {
    /// One sentence.
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Counts of what the engine did.
public struct EngineStatistics: Sendable, Hashable {
    /// Rules whose condition held.
    public var rulesFired: Int
    /// Actions that ran, by kind.
    public var actions: [String: Int]
    /// Actions that failed.
    public var failures: Int
    /// Regex conditions that stopped at their match limit (counted as not matching).
    public var conditionProblems: Int
    /// Actions refused by access control.
    public var denials: Int
}

final class EngineCounters: Sendable {
    let rulesFired = Atomic<Int>(0)
    let conditionProblems = Atomic<Int>(0)
    /// One counter per action kind, made up front: counting an action takes no lock.
    private final class Counter: Sendable { let value = Atomic<Int>(0) }
    private let byKind: [ActionKind: Counter] = Dictionary(uniqueKeysWithValues: ActionKind.allCases.map { ($0, Counter()) })
    private let failures = Atomic<Int>(0)

    private let denials = Atomic<Int>(0)

    func count(_ outcome: ActionOutcome) {
        switch outcome.status {
        case .ok: byKind[outcome.action]?.value.add(1, ordering: .relaxed)
        case .denied: denials.add(1, ordering: .relaxed)
        case .skipped: break  // not run on purpose (`--no-actions`): neither done nor failed
        default: failures.add(1, ordering: .relaxed)
        }
    }

    func snapshot() -> EngineStatistics {
        EngineStatistics(
            rulesFired: rulesFired.load(ordering: .relaxed),
            actions: Dictionary(
                uniqueKeysWithValues: byKind.compactMap { kind, counter in
                    let count = counter.value.load(ordering: .relaxed)
                    return count > 0 ? (kind.name, count) : nil
                }), failures: failures.load(ordering: .relaxed),
            conditionProblems: conditionProblems.load(ordering: .relaxed), denials: denials.load(ordering: .relaxed))
    }
}
