import HeapModule
import Logging
import SymphonyConcurrency
import SymphonyCrypto

/// Publishes events later: after a duration, at a time, or every period.
///
/// One timer thread sleeps on a condition variable until the earliest due time in a heap (or
/// until an entry is added, cancelled, or the clock is advanced by hand), then publishes every
/// due entry through `publish` — into the dispatcher's queue, so scheduled events share its
/// workers. An entry is saved to the `ScheduledEntryStore` before `schedule` returns and is
/// completed only after its event was handled — by the dispatcher's worker, or by the handler
/// that records the handling (`EventSystem.subscribe(_:completingFiredEntries:)`) — so a store
/// that survives restarts loses nothing. A scheduler publishing through its own closure cannot
/// know when an event is handled: it completes a one-shot entry once its event was published.
///
/// A scheduler made with a `publish` closure starts with `start()`. One made without publishes
/// into a dispatcher and starts with `start(publishingThrough:)`, whose argument only a started
/// `EventDispatcher` returns: the overdue entries that start-up fires can never wait for room in
/// a queue that no worker drains yet.
///
/// A periodic entry that falls behind (the process was stopped, or time jumped) fires once and
/// moves to its next due time after now; it does not fire once per missed period.
public final class Scheduler: Sendable {
    /// Publishes a due event; throwing leaves the entry in the store.
    public typealias Publish = @Sendable (Event) throws -> Void

    private struct DueKey: Comparable {
        let due: Timestamp
        let sequence: UInt64
        let id: ScheduleID
        static func < (lhs: DueKey, rhs: DueKey) -> Bool { (lhs.due, lhs.sequence) < (rhs.due, rhs.sequence) }
    }

    private struct State {
        var entries: [ScheduleID: ScheduledEntry] = [:]
        /// The pending keyed entry of each key.
        var keys: [String: ScheduleID] = [:]
        var heap = Heap<DueKey>()
        var sequence: UInt64 = 0
        var running = false
        var stopped = false
        var fired = 0

        /// The earliest live due time, dropping heap keys of cancelled or moved entries.
        mutating func earliestDue() -> Timestamp? {
            while let top = heap.min {
                if let entry = entries[top.id], entry.due == top.due { return top.due }
                heap.removeMin()
            }
            return nil
        }

        mutating func insert(_ entry: ScheduledEntry) {
            entries[entry.id] = entry
            if let key = entry.key { keys[key] = entry.id }
            heap.insert(DueKey(due: entry.due, sequence: sequence, id: entry.id))
            sequence &+= 1
        }

        /// Removes a pending entry (and its key); nil when it was not pending.
        @discardableResult
        mutating func remove(_ id: ScheduleID) -> ScheduledEntry? {
            guard let entry = entries.removeValue(forKey: id) else { return nil }
            if let key = entry.key, keys[key] == id { keys[key] = nil }
            return entry
        }
    }

    /// Where due events go.
    private enum Target {
        case closure(Publish)
        case dispatcher(RunningDispatcher)
    }

    /// Where due events go, and how many firing rounds have run.
    private struct Firing {
        var rounds: UInt64 = 0
        /// Nil until a scheduler made without a closure starts publishing through a dispatcher.
        var target: Target?
    }

    /// The clock due times are read from.
    public let clock: any SchedulerClock
    private let store: any ScheduledEntryStore
    /// True when `publish` came with `init`: then `start()` starts it, else `start(publishingThrough:)`.
    private let hasOwnPublish: Bool
    private let logger: Logger
    private let lock = ConditionLock()
    // nonisolated(unsafe): every access holds `lock`; it is a ConditionLock because the timer
    // thread must wait on a condition variable, which `Locked` does not offer.
    nonisolated(unsafe) private var state = State()
    // Serialises whole firing rounds (and counts them), so a manual clock's `advance` returns only
    // after the due events were published; holds the publish target.
    private let firing: Locked<Firing>
    private let timer = Locked<WorkerThread?>(nil)
    /// The dispatcher a worker may queue an entry that is already due into (`fireAtOnce`); read
    /// without the `firing` lock, which a firing round holds while it may wait for room in the queue.
    private let directTarget = Locked<RunningDispatcher?>(nil)
    /// Serialises keyed schedules and cancels (look-up, then store, then heap). (Its value is
    /// unused but not empty: ThreadSanitizer reports the in-out access to an empty value as a
    /// write to the lock object itself, racing with every other thread that reads it.)
    private let keyed = Locked(false)
    private let idGenerator = EventIDGenerator()
    /// Seals a one-shot entry's event once, when it is scheduled (the dispatcher's sealer).
    private let sealer: EnvelopeSealer?

    /// A scheduler that reads time from `clock`, keeps entries in `store` and publishes due events with `publish`; start it with `start()`.
    public init(
        clock: any SchedulerClock = SystemClock(), store: any ScheduledEntryStore = InMemoryScheduledEntryStore(),
        logger: Logger = Logger(label: "symphony.scheduler"), publish: @escaping Publish
    ) {
        self.clock = clock
        self.store = store
        self.hasOwnPublish = true
        self.firing = Locked(Firing(target: .closure(publish)))
        self.logger = logger
        self.sealer = nil
        clock.onAdvance { [weak self] in self?.fireDueEntries() }
    }

    /// A scheduler that publishes due events into a dispatcher; start it with `start(publishingThrough:)`.
    public convenience init(
        clock: any SchedulerClock = SystemClock(), store: any ScheduledEntryStore = InMemoryScheduledEntryStore(),
        logger: Logger = Logger(label: "symphony.scheduler")
    ) {
        self.init(clock: clock, store: store, logger: logger, sealer: nil)
    }

    /// A scheduler that publishes due events into a dispatcher whose queue seals with `sealer`:
    /// a one-shot entry's event is sealed once when it is scheduled, and that envelope is stored
    /// and queued when it fires.
    init(clock: any SchedulerClock, store: any ScheduledEntryStore, logger: Logger, sealer: EnvelopeSealer?) {
        self.clock = clock
        self.store = store
        self.hasOwnPublish = false
        self.firing = Locked(Firing(target: nil))
        self.logger = logger
        self.sealer = sealer
        clock.onAdvance { [weak self] in self?.fireDueEntries() }
    }

    /// Starts a scheduler made with a `publish` closure: loads the store's pending entries (those
    /// already due are published before it returns) and starts the timer thread.
    ///
    /// Throws `wrongStart` for a scheduler made without a closure, and `alreadyStarted` on a second call.
    public func start() throws {
        guard hasOwnPublish else {
            throw EventsError(
                .wrongStart, "This scheduler publishes into a dispatcher; start it with start(publishingThrough:) and the handle the started dispatcher returned.")
        }
        try begin()
    }

    /// Starts a scheduler made without a closure, publishing through `running` — the handle
    /// `EventDispatcher.start()` returned, so workers already drain the queue when the overdue
    /// entries loaded from the store are published (before this returns).
    ///
    /// Throws `wrongStart` for a scheduler made with its own `publish` closure, and `alreadyStarted` on a second call.
    public func start(publishingThrough running: RunningDispatcher) throws {
        guard !hasOwnPublish else {
            throw EventsError(.wrongStart, "This scheduler publishes through its own closure; start it with start().")
        }
        try begin(publishingThrough: running)
    }

    /// Loads the pending entries, sets the dispatcher to publish through (when given) and starts the timer thread.
    private func begin(publishingThrough running: RunningDispatcher? = nil) throws {
        let pending = try store.loadPending()
        if let running {
            // Set before `running` (no round fires while not running), outside `lock` (a firing
            // round takes `firing`, then `lock`); a first target is never replaced.
            firing.withLock { if $0.target == nil { $0.target = .dispatcher(running) } }
            directTarget.withLock { if $0 == nil { $0 = running } }
        }
        // At most one pending entry per key: a crash between storing a replacing keyed entry and
        // cancelling the one it replaced leaves both; the one stored later (the replacement) stays.
        let replaced = try lock.withLock { () -> [ScheduleID] in
            guard !state.running else {
                throw EventsError(.alreadyStarted, "The scheduler was already started.")
            }
            guard !state.stopped else {
                throw EventsError(.alreadyStarted, "The scheduler was stopped; make a new one to start again.")
            }
            var replaced: [ScheduleID] = []
            for entry in pending where state.entries[entry.id] == nil {
                if let key = entry.key, let earlier = state.keys[key], state.remove(earlier) != nil { replaced.append(earlier) }
                state.insert(entry)
            }
            state.running = true
            return replaced
        }
        for id in replaced {
            logger.warning("two pending entries had one key; the earlier is cancelled", metadata: ["entry": "\(id)"])
            try store.cancel(id)
        }
        let thread = WorkerThread(name: "sym-scheduler") { [self] in runTimer() }
        timer.withLock { $0 = thread }
        fireDueEntries()  // stored entries already due fire before start returns
    }

    /// Stops the timer thread; pending entries stay in the store.
    public func stop() {
        lock.withLock {
            state.running = false
            state.stopped = true
            lock.signal()
        }
        let thread = timer.withLock { thread -> WorkerThread? in
            defer { thread = nil }
            return thread
        }
        thread?.join()
    }

    /// Publishes `event` once, `delay` from now.
    @discardableResult
    public func schedule(_ event: Event, after delay: Duration) throws -> ScheduleID {
        try add(event, due: clock.now().advanced(by: max(delay, .zero)), interval: nil)
    }

    /// Publishes `event` once at `time` (at once if `time` has passed).
    @discardableResult
    public func schedule(_ event: Event, at time: Timestamp) throws -> ScheduleID {
        try add(event, due: time, interval: nil)
    }

    /// Publishes `event` once at `time`; returns the entry, with the event's envelope when this
    /// scheduler seals (see `ScheduledEntry.sealed`) and, for `fromHandler`, its store keeps envelopes.
    /// `fromHandler: true` (a worker thread): an entry already due is queued from here — at once,
    /// or, when the store keeps no envelopes, with the worker's held publishes.
    func scheduleEntry(_ event: Event, at time: Timestamp, fromHandler: Bool = false) throws -> ScheduledEntry {
        try addEntry(event, due: time, interval: nil, fromHandler: fromHandler)
    }

    /// What a keyed `schedule` did.
    public enum KeyedOutcome: Sendable {
        /// The entry was scheduled; no entry of its key was pending.
        case scheduled(ScheduledEntry)
        /// The entry was scheduled in place of the key's pending entry, which was cancelled.
        case replaced(ScheduledEntry, cancelled: ScheduledEntry)
        /// The key's pending entry was kept and nothing was scheduled.
        case kept(ScheduledEntry)
    }

    /// What a keyed schedule does when its key already has a pending entry.
    public enum WhenPending: String, Sendable, CaseIterable {
        /// Cancel the pending entry and schedule the new one.
        case replace
        /// Keep the pending entry; schedule nothing.
        case keep
    }

    /// Publishes `event` once at `time` under `key`: at most one entry per key is pending, and
    /// `whenPending` says which one stays.
    public func schedule(_ event: Event, at time: Timestamp, key: String, whenPending: WhenPending, fromHandler: Bool = false) throws -> KeyedOutcome {
        // One keyed schedule at a time, so two events of one key cannot both find it free.
        try keyed.withLock { _ in
            let pending = lock.withLock { state.keys[key].flatMap { state.entries[$0] } }
            if let pending {
                if whenPending == .keep { return .kept(pending) }
                let entry = try addEntry(event, due: time, interval: nil, key: key, fromHandler: fromHandler)
                // The pending one may have fired meanwhile (it was due): then nothing was replaced.
                return try cancel(pending.id) ? .replaced(entry, cancelled: pending) : .scheduled(entry)
            }
            return .scheduled(try addEntry(event, due: time, interval: nil, key: key, fromHandler: fromHandler))
        }
    }

    /// Cancels the pending entry of `key` when `accept` agrees (e.g. it was made by a given rule);
    /// returns it, or nil when there was none.
    public func cancel(key: String, where accept: (ScheduledEntry) -> Bool = { _ in true }) throws -> ScheduledEntry? {
        try keyed.withLock { _ in
            guard let pending = lock.withLock({ state.keys[key].flatMap { state.entries[$0] } }), accept(pending) else { return nil }
            return try cancel(pending.id) ? pending : nil
        }
    }

    /// Publishes a copy of `event` (with a fresh id) every `period`, the first time one period from now.
    @discardableResult
    public func schedule(_ event: Event, every period: Duration) throws -> ScheduleID {
        guard period > .zero else {
            throw EventsError(.invalidSchedule, "A periodic entry needs a period greater than zero.")
        }
        return try add(event, due: clock.now().advanced(by: period), interval: period)
    }

    /// Cancels an entry; returns false when it was not pending.
    @discardableResult
    public func cancel(_ id: ScheduleID) throws -> Bool {
        let removed = lock.withLock { () -> Bool in
            guard state.remove(id) != nil else { return false }
            lock.signal()
            return true
        }
        if removed { try store.cancel(id) }
        return removed
    }

    /// True once `stop()` was called.
    var isStopped: Bool { lock.withLock { state.stopped } }

    /// The earliest due time of the pending entries, if any.
    public var nextDue: Timestamp? { lock.withLock { state.earliestDue() } }

    /// Entries that have not fired (one-shot) or been cancelled.
    public var pendingCount: Int { lock.withLock { state.entries.count } }

    /// How many times an entry has fired and its event was published.
    public var firedCount: Int { lock.withLock { state.fired } }

    /// Pending entries, earliest first.
    public var pending: [ScheduledEntry] {
        lock.withLock { state.entries.values.sorted { ($0.due, $0.id) < ($1.due, $1.id) } }
    }

    private func add(_ event: Event, due: Timestamp, interval: Duration?) throws -> ScheduleID {
        try addEntry(event, due: due, interval: interval).id
    }

    private func addEntry(_ event: Event, due: Timestamp, interval: Duration?, key: String? = nil, fromHandler: Bool = false) throws -> ScheduledEntry {
        try Event.validate(event)
        var entry = ScheduledEntry(id: ScheduleID(rawValue: "s-" + idGenerator.next()), event: event, due: due, interval: interval, key: key)
        // Sealed once: the store keeps this envelope and the queue takes it when the entry fires.
        // A periodic entry publishes a copy with a fresh id each time, so it is sealed then. A
        // handler's delay is not sealed alone when the store keeps no envelope: fired at once, it
        // is sealed with the handler's other events; fired later, when it is queued.
        if interval == nil, let sealer, !fromHandler || store.keepsSealedEvents {
            entry.sealed = try SealedEvent(sealing: event, with: sealer)
        }
        try store.save(entry)
        if fromHandler, interval == nil, try fireAtOnce(entry) { return entry }
        lock.withLock {
            state.insert(entry)
            lock.signal()
        }
        return entry
    }

    /// Queues a one-shot entry that is already due straight from the calling worker — no wake-up
    /// of the timer thread, no second hand-off — and completes it like any fired entry. False
    /// (nothing done) when it is not due, this scheduler is not running into a dispatcher, or the
    /// queue refused it (closing): the caller then keeps it pending as usual.
    private func fireAtOnce(_ entry: ScheduledEntry) throws -> Bool {
        let firedAt = clock.now()
        guard entry.due <= firedAt, let running = directTarget.withLock({ $0 }), lock.withLock({ state.running }) else { return false }
        let fired = FiredEntry(id: entry.id, eventID: entry.event.id, due: entry.due, firedAt: firedAt, sealed: entry.sealedEvent)
        do {
            // Held with the worker's publishes when the store keeps no envelope (none was made).
            try running.publish(fired: entry.event, sealed: fired.sealed, entry: fired, fromHandler: true, holding: !store.keepsSealedEvents)
        } catch {
            return false
        }
        lock.withLock { state.fired += 1 }
        return true
    }

    private func runTimer() {
        lock.lock()
        while state.running {
            guard let due = state.earliestDue() else {
                lock.wait()
                continue
            }
            guard let interval = clock.sleepInterval(until: due) else {
                lock.wait()
                continue
            }
            if interval > .zero {
                _ = lock.wait(timeout: interval)
                continue
            }
            lock.unlock()
            fireDueEntries()
            lock.lock()
        }
        lock.unlock()
    }

    /// Publishes every entry whose due time has come, in due order. The timer thread calls it; call
    /// it directly to fire what is due now without waiting for the timer (for example before stopping).
    ///
    /// An entry whose publish throws (the queue is closed because the system is stopping) is not
    /// retried by this scheduler; it stays in the store and fires after the next start.
    public func fireDueEntries() {
        firing.withLock { firing in
            firing.rounds &+= 1
            guard let target = firing.target else { return }  // not started: nothing is running yet
            let due = takeDueEntries()
            for (entry, next) in due {
                var event = entry.event
                if entry.interval != nil {
                    event.id = idGenerator.next()
                    event.time = entry.due
                }
                let firedAt = clock.now()
                let fired = entry.interval == nil
                    ? FiredEntry(id: entry.id, eventID: event.id, due: entry.due, firedAt: firedAt, sealed: entry.sealedEvent) : nil
                do {
                    switch target {
                    case .closure(let publish): try publish(event)
                    case .dispatcher(let running): try running.publish(fired: event, sealed: fired?.sealed, entry: fired)
                    }
                } catch {
                    logger.error(
                        "scheduled entry could not be published; it stays pending in the store",
                        metadata: ["entry": "\(entry.id)", "type": "\(event.type)", "error": "\(error)"])
                    continue
                }
                lock.withLock { state.fired += 1 }
                do {
                    if let next {
                        // A periodic entry cancelled while it fired must not come back.
                        if lock.withLock({ state.entries[entry.id] != nil }) { try store.save(next) }
                        try store.firedPeriodic(entry, event: event, at: firedAt)
                    } else if case .closure = target, let fired {
                        try store.completeFired(fired, event: event)  // published is all this scheduler can know
                    }
                } catch {
                    logger.error(
                        "scheduled entry was published but the store could not record it; it may fire again after a restart",
                        metadata: ["entry": "\(entry.id)", "error": "\(error)"])
                }
            }
        }
    }

    /// Removes due entries from the heap (re-inserting periodic ones at their next due time).
    private func takeDueEntries() -> [(entry: ScheduledEntry, next: ScheduledEntry?)] {
        lock.withLock {
            guard state.running else { return [] }
            let now = clock.now()
            var due: [(ScheduledEntry, ScheduledEntry?)] = []
            while let earliest = state.earliestDue(), earliest <= now {
                let key = state.heap.removeMin()
                let entry = state.entries[key.id]!
                if let interval = entry.interval {
                    let behind = entry.due.duration(to: now).nanoseconds
                    let period = max(1, interval.nanoseconds)
                    let (step, overflow) = period.multipliedReportingOverflow(by: behind / period + 1)
                    var next = entry
                    next.due = entry.due.advanced(by: .nanoseconds(overflow ? .max : step))
                    state.insert(next)
                    due.append((entry, next))
                } else {
                    state.remove(key.id)
                    due.append((entry, nil))
                }
            }
            return due
        }
    }
}
