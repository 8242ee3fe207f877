import SymphonyAccess
import SymphonyConcurrency
import SymphonyDelivery
import SymphonyEngine
import SymphonyEvents
import SymphonyRecords
import SymphonyRules
import Synchronization

/// A run of a rule set: reads events from sources, publishes them in batches, runs the rules on
/// worker threads, records everything in the history, and ends with a summary.
///
/// ```
/// EventSource ──▶ feed: policy check, InputBatch (64) ──▶ EventSystem (sealed queue, workers)
///                     │ rejected / denied lines                 │ RuleEngine.process
///                     ▼                                         ▼
///               OutputSink.problem             HistoryRecorder.record ──▶ OutputSink.handled
/// ```
///
/// Built in a usable order: the constructor starts the workers (and then the scheduler, which may
/// publish overdue delays at once); `feed` may be called for several sources; `finish` ends the
/// run once.
public final class RunPipeline: Sendable {
    /// The event system the run publishes into.
    public let system: EventSystem
    /// The rule engine the workers run (a reload replaces it).
    public var engine: RuleEngine { engines.withLock { $0 } }
    /// The current engine; each event is handled by the engine current when a worker takes it.
    private let engines: Locked<RuleEngine>
    /// Requested by a signal (or by the embedder): input stops, derived publishes fail, the queue drains.
    public let stop: StopRequest
    private let configuration: RunConfiguration
    private let output: any OutputSink
    private let batch: InputBatch
    private let read = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)
    private let denied = Atomic<Int>(0)
    private let replacedUTF8 = Atomic<Int>(0)
    private let partlyParsed = Atomic<Int>(0)
    private let unreadable = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let started = Timestamp.now()
    private let scheduledEntries: RuleSetScheduledEntries?
    /// Input events an earlier run recorded but did not handle, handled by this one before its input.
    private let recovered: Int
    /// Recorded events replayed through the rules' gates at start.
    private let restoredEvents: Int
    /// The input's clock in a replay (`RunConfiguration.replay`).
    private let replayClock: ReplayClock?
    /// Runs side effects (`exec`, `http`, `file`) on their pools; nil when the rule set has none
    /// and the history holds none pending.
    public let dispatcher: ActionDispatcher?
    /// Side effects an earlier run queued but did not finish, queued again at start.
    private let resumedActions: Int

    /// Builds the event system and the engine, subscribes the rules and starts the workers and
    /// the scheduler. Throws when the event system cannot start.
    public init(configuration: RunConfiguration, output: any OutputSink, stop: StopRequest) throws {
        self.configuration = configuration
        self.output = output
        self.stop = stop
        var systemConfiguration = EventSystemConfiguration()
        systemConfiguration.workerCount = configuration.workerCount
        systemConfiguration.queueCapacity = configuration.queueCapacity
        systemConfiguration.encryption = configuration.encryption
        let replayClock = configuration.replay ? ReplayClock() : nil
        self.replayClock = replayClock
        let clock = replayClock ?? configuration.clock
        systemConfiguration.clock = clock
        // Pending delays belong to the rule set whose rules made them: another rule set's stay pending.
        scheduledEntries = configuration.history.map {
            RuleSetScheduledEntries($0.scheduledEntries, rules: Set(configuration.ruleSet.rules.map(\.name)))
        }
        if let scheduledEntries { systemConfiguration.scheduleStore = scheduledEntries }
        system = try EventSystem(configuration: systemConfiguration)
        let effects = PipelineEffects(system: system, output: output, stop: stop)
        let engine = RuleEngine(
            ruleSet: configuration.ruleSet, effects: effects, clock: clock, hopLimit: configuration.hopLimit,
            derivedEventBudget: configuration.derivedEventBudget, access: configuration.access, defaultPrincipal: configuration.principal,
            runsSideEffects: configuration.runsSideEffects)
        let history = configuration.history
        // Side effects an earlier run queued and did not finish run again (at least once).
        let pendingActions = configuration.runsSideEffects ? try history?.pendingActions() ?? [] : []
        let dispatcher: ActionDispatcher?
        if configuration.runsSideEffects && (configuration.ruleSet.rules.contains(where: \.hasSideEffects) || !pendingActions.isEmpty) {
            var deliveryConfiguration = ActionDispatcher.Configuration(ruleSet: configuration.ruleSet, clock: configuration.sideEffectClock ?? clock)
            deliveryConfiguration.jitter = configuration.jitter
            deliveryConfiguration.memoryLimit = configuration.sideEffectMemoryLimit
            let metrics = configuration.metrics
            dispatcher = ActionDispatcher(configuration: deliveryConfiguration, runner: configuration.sideEffectRunner, history: history) { record, _, _ in
                metrics.attempted(record)
                if output.reportsOutcomes { output.handled([ActionOutcome(attempt: record)]) }
            }
        } else {
            dispatcher = nil
        }
        self.dispatcher = dispatcher
        resumedActions = pendingActions.count
        var restoredEvents = 0
        let intake = history.map { history in IntakeTracker { history.handled(through: $0) } }
        batch = InputBatch(system: system, history: history, output: output, intake: intake)
        let engines = Locked(engine)
        self.engines = engines
        let store = systemConfiguration.scheduleStore
        let metrics = configuration.metrics
        // The handler records each event's handling, and so completes the scheduled entry that
        // fired it in the same commit: a delayed event is done once its outcomes are recorded.
        try system.subscribe("**", completingFiredEntries: { event, fired in
            let current = engines.withLock { $0 }
            let handled = current.process(event)
            metrics.handled(handled)
            if let fired { metrics.fired(fired) }
            Self.handle(handled, of: event, fired: fired, history: history, output: output, store: store, dispatcher: dispatcher)
            if event.causation == nil { intake?.handled(event.id) }  // input events (derived ones are not tracked)
        })
        // Rules with memory (count, throttle, after) rebuild their state from the events earlier
        // runs recorded and handled, before any new event reaches them.
        if let history, let horizon = engine.gateHorizon {
            let ruleSet = configuration.ruleSet
            let gates = engine.gates
            let events = try history.handledEvents(within: horizon) { type in
                ruleSet.rules(for: type).contains(where: \.isStateful) || gates.observes(type)
            }
            engine.restoreGates(from: events)
            restoredEvents = events.count
        }
        try system.start()
        dispatcher?.submit(pendingActions)
        // Recorded input is an intake log: what an earlier run recorded but was killed before
        // handling is handled first (already recorded, so only published), then marked.
        var recovered = 0
        if let history {
            let unhandled = try history.unhandledInputs()
            if !unhandled.isEmpty {
                recovered = try system.publish(contentsOf: unhandled)
                system.dispatcher.waitUntilIdle()
            }
            try history.markRecordedHandled()
        }
        self.recovered = recovered
        self.restoredEvents = restoredEvents
    }

    /// Shows and records one event's outcomes. Output is at least once across a crash: a line
    /// about an action that ran is written out before its outcome is recorded, so history never
    /// says `ok` for a line that was lost — except a delay's, which is shown only once its scheduled
    /// entry is committed (and shown failed if it cannot be), after the event's other outcomes.
    ///
    /// A scheduled entry that fired the event (`fired`) is completed with the event's records, also
    /// when no rule acted on it; without a history, in the scheduler's store once handled.
    private static func handle(
        _ handled: [ActionOutcome], of event: Event, fired: FiredEntry?, history: (any HistoryRecorder)?, output: any OutputSink,
        store: any ScheduledEntryStore, dispatcher: ActionDispatcher?
    ) {
        // Side effects are queued, not done: each try is recorded and shown when it ends.
        var outcomes = handled
        var queued: [OutboxEntry] = []
        if handled.contains(where: { $0.queued != nil }) {
            queued = handled.compactMap(\.queued)
            outcomes = handled.filter { $0.queued == nil }
        }
        guard let history else {
            if output.reportsOutcomes, !outcomes.isEmpty { output.handled(outcomes) }
            if let fired { try? store.completeFired(fired, event: event) }
            dispatcher?.submit(queued)
            return
        }
        let completing = fired.map { (entry: $0, event: event) }
        guard !outcomes.isEmpty || !queued.isEmpty else {
            if let completing { history.record([], audits: [], completing: completing) }
            return
        }
        let delays = outcomes.filter { $0.action == .delay && $0.status == .ok }
        if output.reportsOutcomes {
            let others = delays.isEmpty ? outcomes : outcomes.filter { !($0.action == .delay && $0.status == .ok) }
            if !others.isEmpty {
                output.handled(others)
                output.flush()
            }
        } else if outcomes.contains(where: { $0.action == .emit && $0.status == .ok }) {
            output.flush()  // the emitted lines `PipelineEffects` wrote
        }
        if queued.isEmpty {
            history.record(outcomes.map(\.executionRecord), audits: outcomes.compactMap(\.denialRecord), completing: completing)
        } else {
            history.record(
                outcomes.map(\.executionRecord), audits: outcomes.compactMap(\.denialRecord), queuing: queued, completing: completing,
                whenDurable: { dispatcher?.submit($0) })
        }
        guard output.reportsOutcomes, !delays.isEmpty else { return }
        do {
            try history.flush()
            output.handled(delays)
        } catch {
            output.handled(delays.map { $0.failed("history could not be written: \(error)") })
        }
    }

    /// Reads `source` to its end, or until a stop is requested: each event the policy allows is
    /// published (64 at a time, and before any read that may block); a rejected or denied line is
    /// reported, counted and recorded. Every line read is handled, also after a stop.
    /// Returns false when part of the input could not be read.
    @discardableResult
    public func feed(_ source: any EventSource) throws -> Bool {
        let (access, principal, history) = (configuration.access, configuration.principal, configuration.history)
        let opened = try source.forEach(beforeRead: { [batch] in batch.flush() }, stop: stop) { item in
            if let history, history.hasFailed, !stop.isRequested {
                // Rows were lost: take no more input than was already read, and derive nothing more.
                output.problem("symphony: history could not be written; reading no more input")
                stop.request(because: "history could not be written")
            }
            let origin = item.origin
            if let problem = item.parseProblem, case .success = item.result {
                partlyParsed.add(1, ordering: .relaxed)
                output.problem("\(origin): \(problem)")
            }
            switch item.result {
            case .success(let event):
                // An input event is published as its source principal (or as the run's).
                let publisher = event.source ?? principal
                do {
                    try access.check(.publish(type: event.type), as: publisher)
                } catch let error as AccessDenied {
                    read.add(1, ordering: .relaxed)
                    if item.replacedInvalidUTF8 { replacedUTF8.add(1, ordering: .relaxed) }
                    denied.add(1, ordering: .relaxed)
                    recordDenied(event, publisher: publisher, origin: origin, reason: error.description)
                    return true
                }
                if let replayClock {
                    // Everything before this event is handled, then its time comes: delays due by then fire first.
                    batch.flush()
                    system.dispatcher.waitUntilIdle()
                    replay(to: event.time, on: replayClock)
                }
                batch.add(event, origin: origin, replacedInvalidUTF8: item.replacedInvalidUTF8, position: item.position)  // counted as read by the batch
            case .failure(let problem):
                read.add(1, ordering: .relaxed)
                rejected.add(1, ordering: .relaxed)
                history?.recordRejected(source: origin.source, line: origin.line, reason: problem.reason, content: problem.content)
                output.problem("\(origin): rejected: \(problem.reason)")
            }
            output.progress(read.load(ordering: .relaxed) + batch.accepted)
            return true
        }
        batch.flush()
        if !opened { unreadable.store(true, ordering: .relaxed) }
        return opened
    }

    /// Takes one submission (an HTTP request's lines) as `principal`, from any thread, while the
    /// run goes on: a rejected line is counted and recorded; each event is checked for
    /// `events:publish:<type>` as `principal` (its `source` must be absent, and is then set to
    /// `principal`, or equal to it); a denial is counted, recorded and audited; the allowed events
    /// are published as one batch. Returns once they are in the queue and, with a history, durably
    /// recorded (concurrent submissions share the history's group commits). Blocks while the queue
    /// is full; never call it on an event loop. Refuses everything once a stop was requested.
    public func submit(_ items: [SourceItem], principal: String) -> SubmitResult {
        var result = SubmitResult()
        let (access, history) = (configuration.access, configuration.history)
        guard !stop.isRequested, !finished.load(ordering: .acquiring), history?.hasFailed != true else {
            result.refused = true
            return result
        }
        var events: [Event] = []
        var origins: [SourceOrigin] = []
        var lines: [Int] = []
        for item in items {
            let origin = item.origin
            switch item.result {
            case .failure(let problem):
                read.add(1, ordering: .relaxed)
                rejected.add(1, ordering: .relaxed)
                result.rejected += 1
                result.problems.append(SubmitResult.Problem(line: origin.line, reason: problem.reason))
                history?.recordRejected(source: origin.source, line: origin.line, reason: problem.reason, content: problem.content)
            case .success(var event):
                if let source = event.source, source != principal {
                    let reason = "'source' must be left out or be the authenticated principal '\(principal)'"
                    read.add(1, ordering: .relaxed)
                    rejected.add(1, ordering: .relaxed)
                    result.rejected += 1
                    result.problems.append(SubmitResult.Problem(line: origin.line, reason: reason))
                    history?.recordRejected(source: origin.source, line: origin.line, reason: reason, content: [])
                    continue
                }
                event.source = principal
                do {
                    try access.check(.publish(type: event.type), as: principal)
                } catch {
                    read.add(1, ordering: .relaxed)
                    denied.add(1, ordering: .relaxed)
                    result.denied += 1
                    result.problems.append(SubmitResult.Problem(line: origin.line, reason: error.description, denied: true))
                    recordDenied(event, publisher: principal, origin: origin, reason: "\(error)")
                    continue
                }
                events.append(event)
                origins.append(origin)
                lines.append(origin.line)
            }
        }
        if !events.isEmpty {
            result.accepted = batch.publishNow(events, origins: origins)
            result.dropped = events.count - result.accepted
            for line in lines.dropFirst(result.accepted) {
                result.problems.append(SubmitResult.Problem(line: line, reason: "not processed: the run is stopping"))
            }
        }
        if let history, !items.isEmpty {
            do {
                try history.flush()
            } catch {
                result.historyFailure = "history could not be written"
            }
        }
        return result
    }

    /// True while the run takes input: no stop was requested, it has not finished, and its
    /// history (if any) has not failed.
    public var isTakingInput: Bool {
        !stop.isRequested && !finished.load(ordering: .acquiring) && configuration.history?.hasFailed != true
    }

    /// The run's counts so far (what `finish()` reports, read while it runs): input read, rejected
    /// and denied, rules fired, actions by kind, side-effect deliveries, pending delays.
    public var progress: RunSummary {
        var summary = RunSummary()
        let counters = system.counters
        let statistics = engine.statistics
        if let dispatcher { summary.sideEffects = dispatcher.statistics }
        summary.read = read.load(ordering: .relaxed) + batch.accepted
        summary.replacedInvalidUTF8 = replacedUTF8.load(ordering: .relaxed) + batch.acceptedWithReplacedUTF8
        summary.rejected = rejected.load(ordering: .relaxed) + batch.refused
        summary.partlyParsed = partlyParsed.load(ordering: .relaxed)
        summary.denied = denied.load(ordering: .relaxed) + statistics.denials
        summary.processed = counters.delivered + counters.failed
        summary.rulesFired = statistics.rulesFired
        summary.actions = statistics.actions.merging(summary.sideEffects.succeeded, uniquingKeysWith: +)
        summary.errors = statistics.failures + counters.failed + summary.sideEffects.deadLettered
        summary.resumedActions = resumedActions
        summary.conditionProblems = statistics.conditionProblems
        summary.gates = engine.gates.statistics
        summary.pending = system.scheduler.pendingCount
        summary.pendingOfOtherRuleSets = scheduledEntries?.otherRuleSets ?? [:]
        summary.inputUnreadable = unreadable.load(ordering: .relaxed)
        summary.stopped = stop.isRequested
        summary.stopReason = stop.isRequested ? stop.reason : nil
        summary.recovered = recovered
        summary.restoredGateEvents = restoredEvents
        summary.duration = started.duration(to: .now())
        return summary
    }

    /// Reports an input event the policy refused, and records it (a `denied` execution of
    /// `(input)`) with its `access.denied` audit record.
    private func recordDenied(_ event: Event, publisher: String, origin: SourceOrigin, reason: String) {
        output.problem("\(origin): denied: \(reason)")
        let now = Timestamp.now()
        configuration.history?.record(
            [
                ExecutionRecord(
                    eventID: event.id, eventType: event.type, rule: "(input)", kind: .publish, outcome: .denied, error: reason, started: now,
                    finished: now)
            ],
            audits: [AuditRecord(principal: publisher, operation: .accessDenied, target: event.type, outcome: "denied", details: reason)])
    }

    /// Moves a replay's clock to `time` through every due time on the way, handling what fires at
    /// each before the next: a delay made by a fired delayed event is due from its own due time,
    /// as it would be live, not from `time`.
    private func replay(to time: Timestamp, on clock: ReplayClock) {
        var fired = system.scheduler.firedCount
        while let due = system.scheduler.nextDue, due <= time {
            if clock.wouldMove(to: due) {
                clock.advance(to: due)  // fires what is due by then
            } else {
                system.scheduler.fireDueEntries()
            }
            system.dispatcher.waitUntilIdle()
            // An entry that could not be published (the run is stopping) stays: do not spin on it.
            guard system.scheduler.firedCount > fired else { break }
            fired = system.scheduler.firedCount
        }
        clock.advance(to: time)
        system.dispatcher.waitUntilIdle()
    }

    /// Waits until every event fed so far, and everything they derived, was handled (what a
    /// manual clock made due included). Meaningful only while no other thread feeds.
    public func waitUntilIdle() {
        system.dispatcher.waitUntilIdle()
    }

    /// Replaces the rule set while the run goes on: events already taken by a worker finish under
    /// the old rules, every later one runs under the new; queued events, pending delays, the
    /// derived-event budgets and the state of each gate whose rule kept its name and settings
    /// carry over. Pools and per-target limits stay as the run started.
    public func reload(_ ruleSet: RuleSet) {
        engines.withLock { $0 = RuleEngine(ruleSet: ruleSet, replacing: $0) }
    }

    /// Waits until every side effect queued so far is recorded and no try is running, ready or
    /// due (retries due later wait for the clock). Meaningful only while no other thread feeds.
    public func waitUntilSideEffectsIdle() {
        system.dispatcher.waitUntilIdle()
        try? configuration.history?.flush()
        dispatcher?.waitUntilIdle()
        try? configuration.history?.flush()
    }

    /// Ends the run, once: publishes what the batch holds; at the end of the input, lets chains
    /// settle and fires delays that are already due (after a stop it starts nothing more); stops
    /// the system (scheduler, then a draining queue); closes the history, committing every row.
    public func finish() -> RunSummary {
        precondition(!finished.exchange(true, ordering: .acquiringAndReleasing), "RunPipeline.finish() called twice")
        batch.flush()
        while !stop.isRequested {
            system.dispatcher.waitUntilIdle()
            let fired = system.scheduler.firedCount
            system.scheduler.fireDueEntries()
            if system.scheduler.firedCount == fired { break }
        }
        system.stop()
        if let dispatcher {
            // Every queued side effect is committed (and so submitted) once history is flushed;
            // a stopping run starts no more tries and leaves the rest pending in the history.
            try? configuration.history?.flush()
            if !stop.isRequested { dispatcher.drain() }
            dispatcher.stop()
        }
        output.flush()
        var historyFailure: String?
        do {
            try configuration.history?.close()
        } catch {
            historyFailure = "\(error)"
        }
        var summary = progress
        summary.historyFailure = historyFailure
        summary.historyLostRows = configuration.history?.lostRows ?? 0
        return summary
    }
}
