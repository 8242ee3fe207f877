import HeapModule
import SymphonyConcurrency
import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// Runs queued side effects (`exec`, `http`, `file`) on their own bounded thread pools, one pool
/// per kind, so a hanging webhook never stalls event processing, nor programs or file appends.
///
/// ```
/// outbox entry (durable) ──▶ submit ──▶ ready queue per kind, FIFO per rule ──▶ pool thread ──▶ SideEffectRunner
///                                          ▲                                        │ result
///                                          └──── retry at now + backoff ◀───────────┤ recordAttempt (history)
///                                                                                   └ .done / .dead
/// ```
///
/// A pool thread takes, round-robin over rules, the oldest entry whose rule (`concurrency:`) and
/// target (`targets:`) limits let it start; a rule at its limit waits without holding back other
/// rules. A failed try that is worth retrying comes back after an exponential backoff with jitter
/// (or the receiver's Retry-After), until the rule's `retry:` attempts or time run out; then the
/// entry is a dead letter. Time is the injected clock's: tests move it by hand.
public final class ActionDispatcher: Sendable {
    /// What the dispatcher needs to know.
    public struct Configuration: Sendable {
        /// Pool sizes and per-target limits.
        public var settings: SideEffectSettings
        /// Per-rule limits on side effects in flight (`concurrency:`).
        public var ruleConcurrency: [String: Int]
        /// The clock backoffs and rate limits run on.
        public var clock: any SchedulerClock
        /// A number in 0…1 for each backoff's jitter.
        public var jitter: @Sendable () -> Double
        /// At most this many side effects are held in memory (queued, awaiting a retry, running);
        /// with a history, more wait in its outbox and are read back as these drain.
        public var memoryLimit = 10_000

        /// A configuration for `ruleSet`.
        public init(ruleSet: RuleSet, clock: any SchedulerClock = SystemClock(), jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
            settings = ruleSet.sideEffects
            ruleConcurrency = Dictionary(uniqueKeysWithValues: ruleSet.rules.compactMap { rule in rule.concurrency.map { (rule.name, $0) } })
            self.clock = clock
            self.jitter = jitter
        }
    }

    /// One try's end, as history records it and output shows it: its execution record, the entry
    /// as it was tried, and where the entry goes next.
    public typealias AttemptObserver = @Sendable (_ execution: ExecutionRecord, _ entry: OutboxEntry, _ state: OutboxState) -> Void

    private struct Waiting: Comparable {
        let due: Timestamp
        let sequence: Int
        let entry: OutboxEntry
        static func < (lhs: Waiting, rhs: Waiting) -> Bool { (lhs.due, lhs.sequence) < (rhs.due, rhs.sequence) }
        static func == (lhs: Waiting, rhs: Waiting) -> Bool { lhs.sequence == rhs.sequence }
    }

    /// Ready entries of one kind: a FIFO per rule, taken round-robin.
    private struct ReadyQueue {
        var byRule: [String: [OutboxEntry]] = [:]
        var heads: [String: Int] = [:]
        var rules: [String] = []
        var next = 0
        var count = 0

        mutating func append(_ entry: OutboxEntry) {
            if byRule[entry.rule] == nil {
                byRule[entry.rule] = []
                heads[entry.rule] = 0
                rules.append(entry.rule)
            }
            byRule[entry.rule]!.append(entry)
            count += 1
        }

        /// Removes and returns the first head (round-robin from where the last take stopped) that `mayStart` accepts.
        mutating func take(where mayStart: (OutboxEntry) -> Bool) -> OutboxEntry? {
            guard count > 0 else { return nil }
            for step in 0..<rules.count {
                let rule = rules[(next + step) % rules.count]
                guard let head = heads[rule], let queue = byRule[rule], head < queue.count else { continue }
                let entry = queue[head]
                guard mayStart(entry) else { continue }
                heads[rule] = head + 1
                if head + 1 == queue.count || head + 1 > 1_024 {
                    byRule[rule]!.removeFirst(head + 1)
                    heads[rule] = 0
                }
                next = (next + step + 1) % rules.count
                count -= 1
                return entry
            }
            return nil
        }

        /// Every entry left, in rule order.
        func remaining() -> [OutboxEntry] {
            rules.flatMap { rule in Array(byRule[rule]!.dropFirst(heads[rule]!)) }
        }
    }

    private struct State {
        var ready: [ActionKind: ReadyQueue] = [:]
        var waiting = Heap<Waiting>()
        var sequence = 0
        var inFlight = 0
        var inFlightByRule: [String: Int] = [:]
        var idleWorkers: [ActionKind: Int] = [:]
        var limiter: TargetLimiter
        /// The earliest time a rate-limited entry may start.
        var rateLimitedUntil: Timestamp?
        var stopping = false
        var statistics = DeliveryStatistics()
        /// Keys of the entries held in memory: ready, waiting for a retry, or running.
        var held: Set<String> = []
        /// Entries left in the history's outbox because memory was at its limit.
        var spilled = 0
        /// A thread is reading spilled entries back.
        var reloading = false
        /// The kinds whose pools run (started with their first side effect).
        var startedPools: Set<ActionKind> = []
        /// Keys of entries that finished (done or dead) while a reload read the outbox.
        var finishedWhileReloading: Set<String> = []
    }

    private static let idle = 0
    private static let timer = 1
    /// Each kind's pool threads wait on a condition of their own: queueing a webhook wakes one
    /// http thread, not every idle thread of every pool.
    private static let workConditions: [ActionKind: Int] = [.exec: 2, .http: 3, .file: 4]
    private static func work(_ kind: ActionKind) -> Int { workConditions[kind] ?? 2 }

    private let configuration: Configuration
    private let runner: any SideEffectRunner
    private let history: (any HistoryRecorder)?
    private let observe: AttemptObserver
    private let lock = ConditionLock(conditionCount: 5)
    // nonisolated(unsafe): every access holds `lock`.
    nonisolated(unsafe) private var state: State
    private let threads = Locked<[WorkerThread]>([])

    /// A dispatcher that runs entries with `runner`, records each try in `history` (when there is
    /// one), and tells `observe` about it. Its timer thread starts at once, each pool with the
    /// first side effect of its kind.
    public init(configuration: Configuration, runner: any SideEffectRunner, history: (any HistoryRecorder)?, observe: @escaping AttemptObserver = { _, _, _ in }) {
        self.configuration = configuration
        self.runner = runner
        self.history = history
        self.observe = observe
        let kinds = [ActionKind.exec, .http, .file]
        let sizes = Dictionary(uniqueKeysWithValues: kinds.map { ($0, max(configuration.settings.poolSizes[$0] ?? 1, 1)) })
        var initial = State(limiter: TargetLimiter(settings: configuration.settings))
        initial.idleWorkers = sizes
        initial.ready = Dictionary(uniqueKeysWithValues: kinds.map { ($0, ReadyQueue()) })
        state = initial  // complete before the first thread starts
        // A kind's pool starts with its first side effect: a rule set with webhooks only runs no exec or file threads.
        let timer = WorkerThread(name: "sym-retry") { [self] in timerLoop() }
        threads.withLock { $0 = [timer] }
        configuration.clock.onAdvance { [weak self] in self?.wakeTimer() }
    }

    /// Queues entries that are recorded (durable); those whose next try is later wait for it.
    public func submit(_ entries: [OutboxEntry]) {
        guard !entries.isEmpty else { return }
        lock.withLock { hold(entries, reloaded: false) }
    }

    /// Holds `entries` in memory, or — with a history, at the memory limit — leaves them in its
    /// outbox for `reloadSpilled()`. Called with `lock` held.
    private func hold(_ entries: [OutboxEntry], reloaded: Bool) {
        let now = configuration.clock.now()
        for entry in entries where !state.held.contains(entry.key) {
            if history != nil, !reloaded, state.held.count >= configuration.memoryLimit {
                state.spilled += 1
                continue
            }
            state.held.insert(entry.key)
            do {
                if entry.nextAttempt > now {
                    state.sequence += 1
                    state.waiting.insert(Waiting(due: entry.nextAttempt, sequence: state.sequence, entry: entry))
                    lock.signal(Self.timer)
                } else {
                    makeReady(entry)
                }
            }
        }
    }

    /// Reads entries left in the outbox back into memory, oldest first, up to the memory limit.
    /// Called without `lock`, by the thread that set `state.reloading`.
    private func reloadSpilled() {
        try? history?.flush()  // the states of finished tries are committed: they do not read back as pending
        let (wanted, skip) = lock.withLock { (configuration.memoryLimit - state.held.count, state.held.count) }
        let pending = (try? history?.pendingActions(limit: wanted + skip)) ?? []
        lock.withLock {
            // Not those held, nor those that finished while the outbox was read (read as pending, done since).
            let fresh = pending.filter { !state.held.contains($0.key) && !state.finishedWhileReloading.contains($0.key) }
            let room = max(0, configuration.memoryLimit - state.held.count)
            let taken = Array(fresh.prefix(room))
            hold(taken, reloaded: true)
            // The outbox is the truth: a read that came back short of what was asked for read it all.
            let exhausted = pending.count < wanted + skip
            state.spilled = exhausted && fresh.count <= room ? 0 : max(1, state.spilled - taken.count)
            state.finishedWhileReloading.removeAll()
            state.reloading = false
            lock.broadcast(Self.idle)
        }
    }

    /// Called with `lock` held.
    private func makeReady(_ entry: OutboxEntry) {
        let kind = entry.kind
        if !state.startedPools.contains(kind), !state.stopping {
            state.startedPools.insert(kind)
            let size = state.idleWorkers[kind, default: 1]
            let started = (0..<size).map { index in WorkerThread(name: "sym-\(kind.name)-\(index)") { [self] in work(kind) } }
            threads.withLock { $0 += started }
        }
        let ruleBusy = configuration.ruleConcurrency[entry.rule].map { state.inFlightByRule[entry.rule, default: 0] >= $0 } ?? false
        // Idle workers are counted down only when one takes an entry: those already ready claim them first.
        let unclaimedWorkers = state.idleWorkers[kind, default: 0] - (state.ready[kind]?.count ?? 0)
        if unclaimedWorkers <= 0 || ruleBusy { state.statistics.waited += 1 }
        state.ready[kind]!.append(entry)
        lock.signal(Self.work(kind))
    }

    /// Waits until every submitted entry is done or dead (retries included: their waits pass on
    /// the clock). Returns at once after `stop()`.
    public func drain() {
        lock.withLock {
            while !state.stopping
                && (state.inFlight > 0 || !state.waiting.isEmpty || state.spilled > 0 || state.reloading
                    || state.ready.values.contains { $0.count > 0 })
            {
                lock.wait(Self.idle)
            }
        }
    }

    /// Waits until no try is running and none is ready or due by the clock's time (retries due
    /// later may wait): what tests on a manual clock wait for after moving it.
    public func waitUntilIdle() {
        lock.withLock {
            while !state.stopping {
                let now = configuration.clock.now()
                let due = state.waiting.min.map { $0.due <= now } ?? false
                let limited = state.rateLimitedUntil.map { $0 <= now } ?? false
                // Ready entries held back by a rate limit until a later time wait for the clock, like retries.
                let heldByRate = state.rateLimitedUntil.map { $0 > now } ?? false
                let runnable = !heldByRate && state.ready.values.contains(where: { $0.count > 0 })
                guard state.inFlight > 0 || due || limited || runnable else { break }
                if due || limited { lock.broadcast(Self.timer) }
                _ = lock.wait(Self.idle, timeout: .milliseconds(50))
            }
        }
    }

    /// Starts no more tries: waits for those running, then stops the threads. Entries not done stay
    /// pending in the history (the next run, or `symphony retry`, runs them); returns how many.
    @discardableResult
    public func stop() -> Int {
        lock.withLock {
            state.stopping = true
            broadcastWork()
            lock.broadcast(Self.timer)
            lock.broadcast(Self.idle)
        }
        let workers = threads.withLock { threads -> [WorkerThread] in
            defer { threads = [] }
            return threads
        }
        for worker in workers { worker.join() }
        return lock.withLock {
            let left = state.waiting.count + state.ready.values.reduce(0) { $0 + $1.count } + state.spilled
            state.statistics.pending = left
            return left
        }
    }

    /// What the dispatcher did so far.
    public var statistics: DeliveryStatistics {
        lock.withLock {
            var statistics = state.statistics
            if !state.stopping {
                statistics.pending = state.inFlight + state.waiting.count + state.ready.values.reduce(0) { $0 + $1.count } + state.spilled
            }
            return statistics
        }
    }

    /// Wakes every pool thread (with `lock` held).
    private func broadcastWork() {
        for condition in Self.workConditions.values { lock.broadcast(condition) }
    }

    private func wakeTimer() {
        lock.withLock {
            lock.broadcast(Self.timer)
            broadcastWork()
        }
    }

    /// Moves retries that came due to the ready queues; sleeps until the next one.
    private func timerLoop() {
        lock.lock()
        while !state.stopping {
            let now = configuration.clock.now()
            while let first = state.waiting.min, first.due <= now {
                _ = state.waiting.removeMin()
                makeReady(first.entry)
            }
            if let limited = state.rateLimitedUntil, limited <= now {
                state.rateLimitedUntil = nil
                broadcastWork()
            }
            let next = [state.waiting.min?.due, state.rateLimitedUntil].compactMap { $0 }.min()
            guard let next, let interval = configuration.clock.sleepInterval(until: next) else {
                lock.wait(Self.timer)
                continue
            }
            if interval > .zero { _ = lock.wait(Self.timer, timeout: interval) }
        }
        lock.unlock()
    }

    private func work(_ kind: ActionKind) {
        lock.lock()
        while true {
            if state.stopping { break }
            let now = configuration.clock.now()
            var rateLimitedAt: Timestamp?
            // The queue is taken out of the state while it is searched: the search reads the state's limits.
            var queue = state.ready.removeValue(forKey: kind) ?? ReadyQueue()
            let taken = queue.take { entry in
                if let limit = configuration.ruleConcurrency[entry.rule], state.inFlightByRule[entry.rule, default: 0] >= limit { return false }
                let verdict = state.limiter.mayStart(entry.request.target, kind: kind, now: now)
                if let at = verdict.retryAt { rateLimitedAt = min(rateLimitedAt ?? at, at) }
                return verdict.allowed
            }
            state.ready[kind] = queue
            if let rateLimitedAt {
                state.rateLimitedUntil = min(state.rateLimitedUntil ?? rateLimitedAt, rateLimitedAt)
                lock.signal(Self.timer)
            }
            guard let entry = taken else {
                lock.wait(Self.work(kind))
                continue
            }
            state.limiter.start(entry.request.target, kind: kind)
            state.inFlight += 1
            state.inFlightByRule[entry.rule, default: 0] += 1
            state.idleWorkers[kind, default: 1] -= 1
            lock.unlock()
            let started = configuration.clock.now()
            let result = runner.attempt(entry)
            let finished = configuration.clock.now()
            // A relinquished entry was not tried: nothing to record, and it leaves this dispatcher.
            let concluded = result.verdict == .relinquished ? nil : conclude(entry, result: result, started: started, finished: finished)
            if let (record, next) = concluded {
                history?.recordAttempt(record, of: entry, state: next)
                observe(record, entry, next)
            }
            lock.lock()
            state.limiter.finish(entry.request.target, kind: kind)
            state.inFlight -= 1
            state.inFlightByRule[entry.rule, default: 1] -= 1
            state.idleWorkers[kind, default: 0] += 1
            switch concluded?.1 {
            case nil:
                state.held.remove(entry.key)
                if state.reloading { state.finishedWhileReloading.insert(entry.key) }
                state.statistics.relinquished += 1
            case .done:
                state.held.remove(entry.key)
                if state.reloading { state.finishedWhileReloading.insert(entry.key) }
                if result.verdict == .ok { state.statistics.succeeded[kind.name, default: 0] += 1 }
            case .retry(let at):
                state.statistics.retried += 1
                var again = entry
                again.attempts += 1
                again.nextAttempt = at
                state.sequence += 1
                state.waiting.insert(Waiting(due: at, sequence: state.sequence, entry: again))
                lock.signal(Self.timer)
            case .dead:
                state.held.remove(entry.key)
                if state.reloading { state.finishedWhileReloading.insert(entry.key) }
                state.statistics.deadLettered += 1
            }
            if state.spilled > 0, !state.reloading, !state.stopping, state.held.count <= configuration.memoryLimit / 2 {
                state.reloading = true
                lock.unlock()
                reloadSpilled()
                lock.lock()
            }
            // A rule or target limit may have freed up: threads of every kind look again (this one loops anyway).
            if configuration.ruleConcurrency[entry.rule] != nil || configuration.settings.limit(for: entry.request.target, kind: kind) != nil {
                broadcastWork()
            }
            lock.broadcast(Self.idle)
        }
        lock.unlock()
    }

    /// The execution record of a try and where its entry goes next.
    func conclude(_ entry: OutboxEntry, result: AttemptResult, started: Timestamp, finished: Timestamp) -> (ExecutionRecord, OutboxState) {
        let attempt = entry.attempts + 1
        let policy = entry.retry
        let tries = "try \(attempt) of \(policy.attempts), action \(entry.key)"
        var next: OutboxState
        var error = result.error
        switch result.verdict {
        case .ok, .relinquished:  // (a relinquished entry is dropped before it is concluded)
            next = .done
        case .fail:
            next = .dead(reason: "not retried: \(result.error ?? result.message)")
            error = "\(result.error ?? result.message); not worth retrying: a dead letter (symphony retry runs it again)"
        case .retry(let asked):
            let backoff = policy.delay(afterAttempt: attempt, jitter: configuration.jitter())
            let wait = max(backoff, asked ?? .zero)
            let at = finished.advanced(by: wait)
            if attempt >= policy.attempts {
                next = .dead(reason: "gave up after \(attempt) tries: \(result.error ?? result.message)")
                error = "\(result.error ?? result.message); gave up after \(attempt) tries: a dead letter (symphony retry runs it again)"
            } else if entry.queued.duration(to: at) > policy.within {
                next = .dead(reason: "gave up: the next try would start after 'within' (\(policy.within)): \(result.error ?? result.message)")
                error = "\(result.error ?? result.message); gave up: the next try would come later than \(policy.within) after it was queued (a dead letter)"
            } else {
                next = .retry(at: at)
                error = "\(result.error ?? result.message); retrying in \(Self.describe(wait))"
            }
        }
        var record = ExecutionRecord(
            eventID: entry.eventID, eventType: entry.eventType, rule: entry.rule, kind: entry.kind, outcome: result.verdict == .ok ? .ok : .failed,
            error: result.verdict == .ok ? nil : error, message: "\(result.message) (\(tries))", started: started, finished: finished)
        record.key = entry.gateKey
        return (record, next)
    }

    static func describe(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        return milliseconds < 1_000 ? "\(milliseconds) ms" : "\(Double(milliseconds / 100) / 10) s"
    }
}
