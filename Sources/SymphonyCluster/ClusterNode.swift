import Dispatch
import Glibc
import SymphonyAccess
import SymphonyConcurrency
import SymphonyEngine
import SymphonyEvents
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords
import SymphonyRules
import Synchronization

/// One node of a cluster that shares its queue, delayed events and records in PostgreSQL.
///
/// - Feeders read the node's inputs, seal each event and queue it, committing each batch with
///   how far its file was read, so a restarted node reads on from there: no line twice, none lost.
/// - Workers each claim a batch (`FOR UPDATE SKIP LOCKED`), run the rules on it — and then on
///   the events its actions publish, after the batch's own events — and, in the same
///   transaction, store the delayed events and the state of rules with memory, mark everything
///   handled with its action outcomes, and remove the batch from the queue. Gate state and delay
///   keys are locked per key (`PostgresLocks`) until the batch commits, so two nodes never count
///   one key at once. A node killed mid-batch never commits: its
///   batch is free for any node at once, and the handling that commits is the only one that counts.
/// - The scheduler fires due delays cluster-wide exactly once (`PostgresScheduledEntryStore.fireDue`)
///   and keeps each gate's shared state within its `max_keys` (`PostgresGateStore.sweep`).
///
/// - Side effects (`exec`, `http`, `file`) are queued in `symphony_outbox` in the transaction of
///   the batch whose rules made them, and tried by the node that holds their lease
///   (`ClusterDelivery`): at least once, also when nodes die.
///
/// Emitted events and audit messages reach the output once their batch committed.
///
/// As a `ServedRun` (`symphony serve --store`), a node also takes HTTP submissions: each one's
/// events are sealed and queued in one transaction before it is answered, so any node may handle
/// them. A reload gives every worker the new rules from its next batch on.
public final class ClusterNode: ServedRun, AuditRecording, Sendable {
    /// What a node did, for its summary.
    public struct Summary: Sendable {
        public var read = 0
        public var rejected = 0
        public var denied = 0
        public var handled = 0
        public var fired = 0
        public var unopened = 0
        /// Input events whose id was handled before (a repeated id), recorded as failed.
        public var repeated = 0
        /// Inputs that could not be read.
        public var unreadable = 0
        /// Statements sent to PostgreSQL (round trips), by every thread of the node.
        public var statements = 0
        /// Rules that fired, in batches that committed.
        public var rulesFired = 0
        /// Actions that failed, in batches that committed.
        public var errors = 0
        /// The first failure that stopped the node, if one did.
        public var failure: String?
    }

    private let configuration: ClusterConfiguration
    private let output: any OutputSink
    private let stop: StopRequest
    private let counts = Locked(Summary())
    private let feedersRunning = Atomic<Int>(0)
    /// The rules in force, and how many times they were replaced.
    private let rules: Locked<Rules>
    /// Connections for submissions and metrics, which arrive on any thread.
    private let shared: PostgresConnectionPool
    /// Side effects, unless the node runs none.
    private let delivery: ClusterDelivery?
    /// Audit records and denied input, on the node's `NODE/audit` chain.
    private let auditTrail: ClusterRecorder
    /// Where `audit(_:)` writes, one batch after another.
    private let audits = DispatchQueue(label: "symphony.cluster.audit")
    /// Audit records waiting for `audits`.
    private let pendingAudits = Locked(PendingAudits())

    /// Audit records handed over and not yet written, and how many were dropped past the limit.
    private struct PendingAudits {
        var records: [AuditRecord] = []
        var dropped = 0
        /// A drain is scheduled or running.
        var draining = false
    }

    /// One version of the node's rules, with the lanes of their events.
    private struct Rules: Sendable {
        var generation: Int
        var ruleSet: RuleSet
        var lanes: ClusterLanes
    }

    /// A node writing its visible results to `output`; `stop` ends it. Throws when the database
    /// cannot be reached, or its events are sealed with another key.
    public init(configuration: ClusterConfiguration, output: any OutputSink, stop: StopRequest) throws {
        let connection = try PostgresConnection(url: configuration.url)
        try PostgresSchema.migrate(connection)
        try PostgresSchema.checkKey(id: configuration.sealer.keyRing.activeKey.idString, on: connection)
        self.configuration = configuration
        rules = Locked(Rules(generation: 0, ruleSet: configuration.ruleSet, lanes: ClusterLanes(ruleSet: configuration.ruleSet)))
        shared = PostgresConnectionPool(url: configuration.url)
        delivery = configuration.runsSideEffects ? ClusterDelivery(configuration: configuration, output: output) : nil
        auditTrail = ClusterRecorder(configuration: configuration, chain: "audit", output: output)
        self.output = output
        self.stop = stop
    }

    /// Where an earlier run of this node stopped reading the file `path`.
    public func position(of path: String) throws -> FilePosition? {
        try PostgresHandlingRecords.position(of: path, node: configuration.node, on: try PostgresConnection(url: configuration.url))
    }

    /// Runs the node: feeds `sources`, works the queue and fires due delays. Returns when `stop`
    /// is requested — or, when `untilDrained`, once the inputs ended and the cluster has nothing
    /// queued and nothing due.
    public func run(sources: [any EventSource], untilDrained: Bool) -> Summary {
        do {
            try delivery?.releaseEarlierLeases()
        } catch {
            output.problem("symphony: node \(configuration.node): freeing the side effects an earlier run of this node held failed (\(error)); they run once their leases run out")
        }
        feedersRunning.store(sources.count, ordering: .sequentiallyConsistent)
        var threads: [WorkerThread] = []
        for source in sources {
            threads.append(
                WorkerThread(name: "sym-feed") { [self] in
                    do {
                        if try !feed(source) { counts.withLock { $0.unreadable += 1 } }
                    } catch {
                        fail("reading input: \(error)")
                    }
                    feedersRunning.subtract(1, ordering: .sequentiallyConsistent)
                })
        }
        for index in 0..<max(1, configuration.workers) {
            threads.append(WorkerThread(name: "sym-worker") { [self] in work(index: index, untilDrained: untilDrained) })
        }
        threads.append(WorkerThread(name: "sym-scheduler") { [self] in schedule() })
        for thread in threads { thread.join() }
        delivery?.stop()
        audits.sync {}  // the audit records handed over so far are written
        output.flush()
        return counts.withLock { summary in
            summary.statements = PostgresConnection.statementsSent
            return summary
        }
    }

    private func fail(_ message: String) {
        counts.withLock { if $0.failure == nil { $0.failure = message } }
        stop.request(because: "a failure: \(message)")
    }

    // MARK: Feeding

    /// Feeds one source; false when part of it could not be read.
    private func feed(_ source: any EventSource) throws -> Bool {
        let connection = try PostgresConnection(url: configuration.url)
        var batch: [SealedEvent] = []
        var batchLanes: [Int?] = []
        var position: FilePosition?
        var flushError: (any Error)?
        // The lanes of the rules in force, taken again after each batch (a reload changes them).
        var lanes = rules.withLock { $0.lanes }
        func flush() {
            lanes = rules.withLock { $0.lanes }
            guard flushError == nil, !batch.isEmpty || position != nil else { return }
            do {
                try connection.transaction { connection in
                    try PostgresEventQueue.enqueue(batch, lanes: batchLanes, at: configuration.clock.now(), on: connection)
                    if let position { try PostgresHandlingRecords.save(position, node: configuration.node, on: connection) }
                }
                batch.removeAll(keepingCapacity: true)
                batchLanes.removeAll(keepingCapacity: true)
                position = nil
            } catch {
                flushError = error
                stop.request(because: "a failure: \(error)")
            }
        }
        let read = try source.forEach(beforeRead: { flush() }, stop: stop) { item in
            counts.withLock { $0.read += 1 }
            switch item.result {
            case .failure(let problem):
                counts.withLock { $0.rejected += 1 }
                output.problem("\(item.origin): rejected: \(problem.reason)")
            case .success(var event):
                if let source = event.source, source != configuration.principal {
                    counts.withLock { $0.rejected += 1 }
                    output.problem("\(item.origin): rejected: 'source' must be left out or be the principal '\(configuration.principal)'")
                    break
                }
                event.source = configuration.principal
                do {
                    try configuration.access.check(.publish(type: event.type), as: configuration.principal)
                } catch {
                    counts.withLock { $0.denied += 1 }
                    output.problem("\(item.origin): denied: \(error)")
                    recordDenied([event], publisher: configuration.principal, reasons: ["\(error)"])
                    break
                }
                batch.append(try SealedEvent(sealing: event, with: configuration.sealer))
                batchLanes.append(lanes.lane(of: event))
            }
            if let itemPosition = item.position { position = itemPosition }
            if batch.count >= 500 { flush() }
            return flushError == nil
        }
        flush()
        if let flushError { throw flushError }
        return read
    }

    // MARK: Serving

    /// Takes one submission as `principal` (`ServedRun`): rejected lines and denied events are
    /// counted and reported in the result; the others are sealed and queued in one transaction,
    /// which has committed when this returns. A database failure leaves none of them queued and
    /// says so (`historyFailure`); the next submission tries on a new connection.
    public func submit(_ items: [SourceItem], principal: String) -> SubmitResult {
        var result = SubmitResult()
        guard isTakingInput else {
            result.refused = true
            return result
        }
        let lanes = rules.withLock { $0.lanes }
        var sealed: [SealedEvent] = []
        var sealedLanes: [Int?] = []
        var lines: [Int] = []
        var denied: [(event: Event, reason: String)] = []
        for item in items {
            let line = item.origin.line
            switch item.result {
            case .failure(let problem):
                result.rejected += 1
                result.problems.append(SubmitResult.Problem(line: line, reason: problem.reason))
            case .success(var event):
                if let source = event.source, source != principal {
                    result.rejected += 1
                    result.problems.append(SubmitResult.Problem(line: line, reason: "'source' must be left out or be the authenticated principal '\(principal)'"))
                    continue
                }
                event.source = principal
                do {
                    try configuration.access.check(.publish(type: event.type), as: principal)
                } catch {
                    result.denied += 1
                    result.problems.append(SubmitResult.Problem(line: line, reason: error.description, denied: true))
                    denied.append((event, error.description))
                    continue
                }
                do {
                    sealed.append(try SealedEvent(sealing: event, with: configuration.sealer))
                } catch {
                    result.rejected += 1
                    result.problems.append(SubmitResult.Problem(line: line, reason: "the event cannot be sealed: \(error)"))
                    continue
                }
                sealedLanes.append(lanes.lane(of: event))
                lines.append(line)
            }
        }
        if !sealed.isEmpty {
            do {
                try shared.withConnection { connection in
                    try connection.transaction { connection in
                        try PostgresEventQueue.enqueue(sealed, lanes: sealedLanes, at: configuration.clock.now(), on: connection)
                    }
                }
                result.accepted = sealed.count
            } catch {
                output.problem("symphony: node \(configuration.node): a submission could not be queued: \(error)")
                result.historyFailure = "the shared queue could not take the events (the database failed); none of them was queued"
                for line in lines { result.problems.append(SubmitResult.Problem(line: line, reason: "not queued: the database failed")) }
            }
        }
        if !denied.isEmpty { recordDenied(denied.map(\.event), publisher: principal, reasons: denied.map(\.reason)) }
        counts.withLock {
            $0.read += items.count
            $0.rejected += result.rejected
            $0.denied += result.denied
        }
        return result
    }

    /// The most audit records held waiting to be written; past it, records are counted and a
    /// record of how many were dropped is written instead.
    static let auditBacklogLimit = 10_000

    /// Appends `record` to the cluster's audit trail, on this node's `NODE/audit` chain, from a
    /// queue of its own: it never blocks the caller (an HTTP handler on an event loop, say).
    /// Records waiting together are written in one transaction. The node's `run` returns once
    /// every record handed over before its end is written (`flushAudits()` waits for later ones).
    public func audit(_ record: AuditRecord) {
        let scheduleDrain = pendingAudits.withLock { pending -> Bool in
            if pending.records.count < Self.auditBacklogLimit { pending.records.append(record) } else { pending.dropped += 1 }
            defer { pending.draining = true }
            return !pending.draining
        }
        guard scheduleDrain else { return }
        audits.async { [self] in
            while true {
                let (batch, dropped) = pendingAudits.withLock { pending -> ([AuditRecord], Int) in
                    defer { pending = PendingAudits(draining: !pending.records.isEmpty || pending.dropped > 0) }
                    return (pending.records, pending.dropped)
                }
                guard !batch.isEmpty || dropped > 0 else { return }
                let note = AuditRecord(
                    principal: configuration.principal, operation: .auditDropped, target: configuration.node, outcome: "dropped",
                    details: "\(dropped) audit records were dropped: more than \(Self.auditBacklogLimit) waited to be written")
                auditTrail.record(audits: batch + (dropped > 0 ? [note] : []), what: "\(batch.count) audit records")
            }
        }
    }

    /// Waits until every audit record handed over so far is written (or given up on).
    public func flushAudits() {
        audits.sync {}
    }

    /// Records input events the policy did not let `publisher` publish, as on one machine: a
    /// denied `publish` execution of rule `(input)` and an `access.denied` audit record each.
    private func recordDenied(_ events: [Event], publisher: String, reasons: [String]) {
        let now = configuration.clock.now()
        let executions = zip(events, reasons).map { event, reason in
            PostgresHandlingRecords.Execution(
                eventID: event.id, rule: "(input)", action: ActionKind.publish.description, outcome: ExecutionOutcome.denied.description, error: reason,
                derivedEventID: nil, started: now, finished: now)
        }
        let audits = zip(events, reasons).map { event, reason in
            AuditRecord(time: now, principal: publisher, operation: .accessDenied, target: event.type, outcome: "denied", details: reason)
        }
        auditTrail.record(executions: executions, audits: audits, what: "a denial")
    }

    /// True until a stop was requested (a signal, the end of the input, or a failure).
    public var isTakingInput: Bool { !stop.isRequested }

    /// The rules in force now.
    public var ruleSet: RuleSet { rules.withLock { $0.ruleSet } }

    /// Replaces the rule set: each worker takes it up before its next batch (a batch in flight
    /// finishes under the old rules). Gate state, pending delays and side effects live in the
    /// database and carry over as they would from one run to the next; side-effect pools and
    /// limits stay as the node started.
    public func reload(_ ruleSet: RuleSet) {
        let lanes = ClusterLanes(ruleSet: ruleSet)
        rules.withLock { $0 = Rules(generation: $0.generation + 1, ruleSet: ruleSet, lanes: lanes) }
    }

    /// What this node did so far (events it read, rejected, denied and handled; rules fired and
    /// actions failed in committed batches), and the delays pending cluster-wide.
    public var progress: RunSummary {
        let now = counts.withLock { $0 }
        var summary = RunSummary()
        summary.read = now.read
        summary.rejected = now.rejected
        summary.denied = now.denied
        summary.processed = now.handled
        summary.rulesFired = now.rulesFired
        summary.errors = now.errors
        if let delivery { summary.sideEffects = delivery.statistics }
        summary.pending = (try? shared.withConnection { try $0.execute("SELECT count(*) FROM symphony_scheduled").int(0, 0) }).flatMap { $0 }.map { Int($0) } ?? 0
        return summary
    }

    /// Events in the shared queue, by priority (empty when the database cannot be read).
    public var queueDepthByPriority: [Int: Int] {
        let rows = try? shared.withConnection { connection in
            let rows = try connection.execute("SELECT priority, count(*) FROM symphony_queue GROUP BY priority")
            return try (0..<rows.count).map { (Int(try rows.int($0, 0) ?? 0), Int(try rows.int($0, 1) ?? 0)) }
        }
        return Dictionary(rows ?? [], uniquingKeysWith: +)
    }

    // MARK: Working

    /// The most events (claimed and derived) one transaction handles; derived events past it are queued.
    static let eventsPerTransaction = 4_096

    private struct LostClaim: Error, CustomStringConvertible {
        var description: String { "another node took over part of a claimed batch" }
    }

    /// The chain worker `index` of this node appends to.
    public static func chain(node: String, worker index: Int) -> String { "\(node)/\(index + 1)" }

    private func work(index: Int, untilDrained: Bool) {
        do {
            let connection = try PostgresConnection(url: configuration.url)
            try connection.listen(PostgresEventQueue.channel)
            let chain = PostgresChainWriter(chain: Self.chain(node: configuration.node, worker: index), key: configuration.sealer.keyRing.activeKey)
            var warnedHeadMoved = false
            var warnedUnreadable = false
            var duplicateRetries = 0
            let effects = ClusterBatchEffects(sealer: configuration.sealer, connection: connection)
            var worker = workerRules(rules.withLock { $0 }, effects: effects, connection: connection)
            while !stop.isRequested {
                // A reload takes effect between batches.
                let current = rules.withLock { $0 }
                if current.generation != worker.generation { worker = workerRules(current, effects: effects, connection: connection) }
                let handled: Int
                do {
                    handled = try handleBatch(on: connection, worker: worker, effects: effects, chain: chain)
                    chain.committed()
                    duplicateRetries = 0
                } catch {
                    // Nothing of the batch was committed; these are handled again.
                    chain.rolledBack()
                    switch error {
                    case is LostClaim:
                        continue
                    case is PostgresChainWriter.HeadMoved:
                        // Another process works under this node's name: its batches and ours interleave on one chain.
                        if !warnedHeadMoved {
                            warnedHeadMoved = true
                            output.problem(
                                "symphony: node \(configuration.node): another process appended to chain \(chain.chain); the batch is handled again (is a second node running under this name?)")
                        }
                        continue
                    case let error as PostgresError where error.isTransient:
                        // A deadlock between two batches' key locks (one found a derived event's key
                        // late) that ran out of attempts: PostgreSQL broke it, and the batch runs again.
                        continue
                    case let error as PostgresError where error.sqlState == "23505" && duplicateRetries < 10:
                        // An id another worker was handling at the same moment (a repeated input id): the
                        // batch, handled again, finds it handled and records it as repeated.
                        duplicateRetries += 1
                        continue
                    default:
                        throw error
                    }
                }
                if worker.gateState.unreadable > 0 && !warnedUnreadable {
                    warnedUnreadable = true
                    output.problem(
                        "symphony: node \(configuration.node): a symphony_gates row could not be read (altered in the database?); its key's gate started empty")
                }
                guard handled == 0 else { continue }
                if untilDrained, feedersRunning.load(ordering: .sequentiallyConsistent) == 0, try isDrained(connection) {
                    stop.request(because: "the input ended and the queue is empty")
                    break
                }
                _ = try connection.waitForNotification(timeout: configuration.idlePoll)
            }
        } catch {
            fail("handling events: \(error)")
        }
    }

    /// What a worker runs one version of the rules with.
    private struct WorkerRules {
        let generation: Int
        let engine: RuleEngine
        let gateState: ClusterGateState
        let lanes: ClusterLanes
        /// True when batches lock keys ahead: a rule has a gate, a keyed delay or a cancel.
        let locksKeys: Bool
    }

    /// A worker's engine, gate state and lanes for `rules`, its actions held by `effects`.
    private func workerRules(_ rules: Rules, effects: ClusterBatchEffects, connection: PostgresConnection) -> WorkerRules {
        let gateState = ClusterGateState(ruleSet: rules.ruleSet, connection: connection)
        let engine = RuleEngine(
            ruleSet: rules.ruleSet, effects: effects, clock: configuration.clock, hopLimit: configuration.hopLimit,
            derivedEventBudget: configuration.derivedEventBudget, access: configuration.access, defaultPrincipal: configuration.principal,
            runsSideEffects: configuration.runsSideEffects, gateSource: gateState.isUsed ? gateState : nil)
        let locksKeys = rules.ruleSet.usesStateKeys
        let lanes = ClusterLanes(engine: locksKeys ? engine : nil)
        effects.lanes = lanes
        return WorkerRules(generation: rules.generation, engine: engine, gateState: gateState, lanes: lanes, locksKeys: locksKeys)
    }

    /// True when nothing is queued (claimed batches in flight included) and no delay is due; for
    /// a node that runs side effects, also no side effect is due and it is trying none nor waiting
    /// to retry one (a `--no-actions` node takes none, so does not wait for them).
    private func isDrained(_ connection: PostgresConnection) throws -> Bool {
        guard delivery?.isIdle ?? true else { return false }
        let outbox = delivery == nil ? "0" : "(SELECT count(*) FROM symphony_outbox WHERE state = 0 AND next_ns <= $1)"
        let rows = try connection.execute(
            "SELECT (SELECT count(*) FROM symphony_queue), (SELECT count(*) FROM symphony_scheduled WHERE due_ns <= $1), \(outbox)",
            [.int(configuration.clock.now().nanosecondsSinceEpoch)])
        return try rows.int(0, 0) == 0 && rows.int(0, 1) == 0 && rows.int(0, 2) == 0
    }

    /// Claims, handles and commits one batch; returns how many events it handled.
    private func handleBatch(on connection: PostgresConnection, worker: WorkerRules, effects: ClusterBatchEffects, chain: PostgresChainWriter) throws -> Int {
        let node = configuration.node
        let (engine, gateState, lanes, locksKeys) = (worker.engine, worker.gateState, worker.lanes, worker.locksKeys)
        typealias Shown = (emitted: [Event], audits: [(rule: String, message: String)], fired: Int, errors: Int, leased: [OutboxEntry])
        let (count, shown) = try connection.transaction { connection -> (Int, Shown) in
            _ = effects.take()
            engine.forgetDerivedEvents()  // the last batch's were handled, stored for any node, or rolled back
            chain.beginAttempt()
            gateState.begin()
            effects.begin()
            if gateState.isUsed { _ = engine.gates.takeShared() }  // what an attempt rolled back changed
            let now = configuration.clock.now()
            // With lanes, from one lane (whichever free one comes first from a random start) and events of none.
            let claims = try PostgresEventQueue.claim(
                limit: configuration.claimBatch, node: node, now: now, lease: configuration.lease,
                laneFrom: lanes.isUsed ? Int.random(in: 0..<PostgresEventQueue.laneCount) : nil, on: connection)
            guard !claims.isEmpty else { return (0, ([], [], 0, 0, [])) }
            var handled: [Event] = []
            var executions: [PostgresHandlingRecords.Execution] = []
            var unopened = 0
            var pending: [Event] = []
            for claim in claims {
                guard let event = try? claim.sealed.open(with: configuration.sealer) else {
                    // Tampered, or sealed under a key this node lacks: recorded as a failure, never retried.
                    unopened += 1
                    handled.append(Event(type: claim.sealed.type, priority: claim.sealed.priority, id: claim.sealed.id, time: now))
                    executions.append(
                        .init(
                            eventID: claim.sealed.id, rule: "(queue)", action: "open", outcome: "failed",
                            error: "the queued envelope cannot be opened with this node's keys", derivedEventID: nil, started: now, finished: now))
                    continue
                }
                pending.append(event)
            }
            // An id handled before (an input line repeating one) is recorded as failed, its rules not run.
            let seen = try PostgresHandlingRecords.alreadyHandled(pending.map(\.id), on: connection)
            var taken = Set<String>()
            var unique: [Event] = []
            var repeated = 0
            for event in pending {
                guard !seen.contains(event.id), taken.insert(event.id).inserted else {
                    repeated += 1
                    executions.append(
                        .init(
                            eventID: event.id, rule: "(queue)", action: "handle", outcome: "failed",
                            error: "an event with this id was handled before: not handled again", derivedEventID: nil, started: now, finished: now))
                    continue
                }
                unique.append(event)
            }
            pending = unique
            // The gate slots and delay keys of the events about to be handled, locked in one go and in
            // one order, then read in one statement each: first the claimed events' (so two batches never
            // wait for each other in a circle), then, wave after wave, those of the events they published.
            var lockedAhead = 0
            func lockAhead() throws {
                guard locksKeys else { return }
                var keys = StateKeys()
                for event in pending[lockedAhead...] {
                    let found = engine.stateKeys(of: event)
                    keys.slots += found.slots
                    keys.delayKeys += found.delayKeys
                }
                lockedAhead = pending.count
                guard !keys.slots.isEmpty || !keys.delayKeys.isEmpty else { return }
                try PostgresLocks.take(keys.slots.map(PostgresLocks.id(of:)) + keys.delayKeys.map(PostgresLocks.id(ofDelayKey:)), on: connection)
                try gateState.preload(keys.slots, into: engine.gates)
                try effects.preload(delayKeys: keys.delayKeys)
            }
            // Run to completion: the events the batch's actions publish are handled in the same
            // transaction, after the batch's own events, in the order published (up to a bound; more are queued).
            var emitted: [Event] = []
            var audits: [(rule: String, message: String)] = []
            var scheduled: [(entry: ScheduledEntry, sealed: SealedEvent)] = []
            var overflow: [Event] = []
            var (fired, errors) = (0, 0)
            var sideEffects: [OutboxEntry] = []
            var next = 0
            var firedRules: [String] = []  // this event's, reused from event to event
            while next < pending.count {
                if next >= lockedAhead { try lockAhead() }
                let event = pending[next]
                next += 1
                let outcomes = engine.process(event)
                firedRules.removeAll(keepingCapacity: true)
                for outcome in outcomes {
                    // A rule fired when one of its outcomes was not skipped. Its outcomes need not be
                    // together (an `unless:` cancel comes last, under the delaying rule): a few
                    // rules per event, so a scan of those already counted.
                    if outcome.status != .skipped && !firedRules.contains(outcome.rule) {
                        fired += 1
                        firedRules.append(outcome.rule)
                    }
                    if outcome.status == .failed { errors += 1 }
                    // A side effect is queued, not done: each of its tries is recorded when it ends.
                    if let entry = outcome.queued {
                        sideEffects.append(entry)
                        continue
                    }
                    executions.append(
                        .init(
                            eventID: outcome.eventID, rule: outcome.rule, action: outcome.action.description, outcome: outcome.status.description,
                            error: outcome.error, message: outcome.message, derivedEventID: outcome.derivedEvent?.id, started: outcome.started,
                            finished: outcome.finished, key: outcome.key))
                }
                handled.append(event)
                let held = effects.take()
                if let failure = gateState.failure ?? held.databaseFailure { throw failure }
                emitted += held.emitted
                audits += held.audits
                scheduled += held.scheduled
                for derived in held.published {
                    if pending.count < Self.eventsPerTransaction { pending.append(derived) } else { overflow.append(derived) }
                }
            }
            guard try PostgresEventQueue.complete(claims.map(\.sequence), node: node, on: connection) == claims.count else { throw LostClaim() }
            try PostgresEventQueue.enqueue(
                try overflow.map { try SealedEvent(sealing: $0, with: configuration.sealer) }, lanes: overflow.map(lanes.lane(of:)), at: now, on: connection,
                notify: !overflow.isEmpty)
            try PostgresScheduledEntryStore.save(scheduled, lanes: scheduled.map { lanes.lane(of: $0.entry.event) }, on: connection)
            if gateState.isUsed { try gateState.save(engine.gates.takeShared()) }
            try effects.saveKeyed()
            // Side effects are queued with the batch, leased to this node when it has room for them.
            var leased: [OutboxEntry] = []
            if let delivery, !sideEffects.isEmpty {
                // As many as this node has room for are leased to it; the rest wait for any node.
                let room = min(sideEffects.count, delivery.room)
                let sealed = try delivery.seal(sideEffects)
                let inserted = try PostgresOutbox.queue(Array(sealed[..<room]), leasedTo: node, for: ClusterDelivery.leaseMargin, on: connection)
                _ = try PostgresOutbox.queue(Array(sealed[room...]), leasedTo: nil, for: ClusterDelivery.leaseMargin, on: connection)
                leased = sideEffects[..<room].filter { inserted.contains($0.key) }
            }
            let link = try chain.nextLink(on: connection)
            let handledDigest = try PostgresHandlingRecords.markHandled(handled, node: node, at: now, link: link, on: connection)
            let executionsDigest = try PostgresHandlingRecords.record(executions, node: node, link: link, on: connection)
            try chain.append(handled: handledDigest, executions: executionsDigest, at: now, on: connection)
            if unopened > 0 || repeated > 0 {
                counts.withLock {
                    $0.unopened += unopened
                    $0.repeated += repeated
                }
            }
            return (handled.count, (emitted, audits, fired, errors, leased))
        }
        guard count > 0 else { return 0 }
        counts.withLock {
            $0.handled += count
            $0.rulesFired += shown.fired
            $0.errors += shown.errors
        }
        for event in shown.emitted { output.emitted(event) }
        for audit in shown.audits { output.audited(rule: audit.rule, message: audit.message) }
        delivery?.submit(shown.leased)
        return count
    }

    // MARK: Scheduling

    private func schedule() {
        do {
            let store = try PostgresScheduledEntryStore(url: configuration.url, sealer: configuration.sealer)
            var sweeper: PostgresConnection?
            var swept = ContinuousClock.now
            var sweepFailed = false
            var claimFailed = false
            while !stop.isRequested {
                let gateRules = rules.withLock { $0.ruleSet }.rules.filter(\.isStateful)
                if !gateRules.isEmpty, swept.duration(to: .now) >= configuration.gateSweepInterval {
                    swept = .now
                    do {
                        if sweeper == nil { sweeper = try PostgresConnection(url: configuration.url) }
                        try sweep(gateRules, on: sweeper!)
                    } catch {
                        // Not a reason to stop: the table only grows until the next sweep succeeds (on a new connection).
                        sweeper = nil
                        if !sweepFailed {
                            sweepFailed = true
                            output.problem("symphony: node \(configuration.node): sweeping gate state failed (\(error)); the next sweep tries again")
                        }
                    }
                }
                if let delivery {
                    do {
                        _ = try delivery.claimDue(now: configuration.clock.now())
                        claimFailed = false
                    } catch {
                        // Not a reason to stop: entries wait in the outbox for the next claim, here or on another node.
                        if !claimFailed {
                            claimFailed = true
                            output.problem("symphony: node \(configuration.node): claiming side effects failed (\(error)); the next claim tries again")
                        }
                    }
                }
                let fired = try store.fireDue(now: configuration.clock.now(), limit: 256)  // queued sealed, never opened here
                if !fired.isEmpty { counts.withLock { $0.fired += fired.count } }
                if fired.count < 256 { stop.sleep(for: configuration.idlePoll) }
            }
        } catch {
            fail("firing delayed events: \(error)")
        }
    }

    /// Keeps each gate of `rules` within its `max_keys` rows (`PostgresGateStore.sweep`).
    private func sweep(_ rules: [Rule], on connection: PostgresConnection) throws {
        for rule in rules {
            if let count = rule.count {
                try PostgresGateStore.sweep(rule: rule.name, kind: .count, horizon: count.within, maxKeys: count.maxKeys, on: connection)
            }
            if let throttle = rule.throttle {
                try PostgresGateStore.sweep(rule: rule.name, kind: .throttle, horizon: throttle.per, maxKeys: throttle.maxKeys, on: connection)
            }
            if let after = rule.after {
                try PostgresGateStore.sweep(rule: rule.name, kind: .after, horizon: after.within, maxKeys: after.maxKeys, on: connection)
            }
        }
    }
}
