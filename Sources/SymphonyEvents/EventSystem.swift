import Logging
import SymphonyCrypto

/// Symphony's runtime facade: publish events, subscribe handlers by type pattern, schedule events for later.
///
/// ```swift
/// let system = try EventSystem()
/// try system.subscribe("ticket.*") { event in print(event.type) }
/// try system.start()
/// try system.publish(Event(type: "ticket.created", payload: ["text": "refund please"]), priority: 2)
/// try system.schedule(Event(type: "ticket.follow_up"), after: .seconds(24 * 3600))
/// system.stop()
/// ```
/// Events are sealed with AES-256-GCM while they wait in the queue unless encryption is turned off.
public final class EventSystem: Sendable {
    /// The dispatcher that queues and delivers events.
    public let dispatcher: EventDispatcher
    /// The scheduler for delayed and periodic events.
    public let scheduler: Scheduler
    /// Where undeliverable events go.
    public let deadLetters: any DeadLetterSink

    /// A system built from `configuration` (defaults: one worker per core, encryption on).
    public init(configuration: EventSystemConfiguration = EventSystemConfiguration()) throws {
        let sealer: EnvelopeSealer?
        switch configuration.encryption {
        case .ephemeralKey:
            sealer = try EnvelopeSealer.withFreshKey()
        case .keyRing(let ring):
            sealer = EnvelopeSealer(keyRing: ring)
        case .disabled:
            sealer = nil
            configuration.logger.warning(
                "ENCRYPTION IS OFF: queued events are held in plaintext memory. Use this only for debugging.")
        }
        let deadLetters = configuration.deadLetters ?? CollectingDeadLetterSink(logger: configuration.logger)
        let store = configuration.scheduleStore
        let logger = configuration.logger
        let dispatcher = EventDispatcher(
            workerCount: configuration.workerCount, queueCapacity: configuration.queueCapacity,
            whenFull: configuration.whenFull, sealer: sealer, deadLetters: deadLetters,
            completeFired: { fired, event in
                do {
                    try store.completeFired(fired, event: event)
                } catch {
                    logger.error(
                        "a fired scheduled entry could not be marked done; it may fire again after a restart",
                        metadata: ["entry": "\(fired.id)", "error": "\(error)"])
                }
            })
        self.dispatcher = dispatcher
        self.deadLetters = deadLetters
        // Started with the handle the started dispatcher returns (see `start()`).
        self.scheduler = Scheduler(clock: configuration.clock, store: store, logger: logger, sealer: sealer)
    }

    /// Queues `event`, with `priority` (0…9, lower first) replacing the event's own when given.
    ///
    /// Handlers that publish must pass `fromHandler: true`: such events never wait for room in the
    /// queue (a worker waiting on its own queue could deadlock), may exceed its capacity, and are
    /// still accepted while `stop()` drains, so what in-flight events derive is delivered too.
    /// Calling it with `fromHandler: true` from any thread other than a handler is a mistake.
    ///
    /// Returns the sealed form the queue holds (nil when encryption is off), for callers that store
    /// the event too and would otherwise seal it a second time.
    @discardableResult
    public func publish(_ event: Event, priority: Int? = nil, fromHandler: Bool = false) throws -> SealedEvent? {
        var event = event
        if let priority { event.priority = priority }
        return try dispatcher.publish(event, fromHandler: fromHandler)
    }

    /// Queues `events` in order, a group of up to 64 per queue hand-off and, with encryption on, one
    /// envelope per priority in a group (see `EventDispatcher.publish(contentsOf:)`); returns how
    /// many were queued: fewer than `events` if the queue closed part-way, or — with
    /// `whenFull: .fail` — filled up. Not for handlers: use `publish(_:fromHandler:)`.
    @discardableResult
    public func publish(contentsOf events: [Event]) throws -> Int {
        try dispatcher.publish(contentsOf: events)
    }

    /// Calls `handler` on a worker thread for every event whose type matches `pattern` (`*` one segment, `**` any number).
    @discardableResult
    public func subscribe(_ pattern: String, handler: @escaping EventHandler) throws -> Subscription {
        let parsed = try TypePattern(pattern)
        let id = dispatcher.registry.add(parsed, handler: handler)
        return Subscription(pattern: parsed, id: id, registry: dispatcher.registry)
    }

    /// Calls `handler` on a worker thread for every event whose type matches `pattern`, with the
    /// fired scheduled entry of an event a one-shot entry published (nil for other events).
    ///
    /// The handler takes over completing those entries: once it handled the event it must call
    /// `ScheduledEntryStore.completeFired(_:event:)` — or hand the entry to
    /// `HistoryRecorder.record(_:audits:completing:)`, which commits the mark with the handling's
    /// records. An entry it does not complete stays pending and fires again after a restart. For an
    /// event no such handler matches, the system completes the entry after every handler ran.
    @discardableResult
    public func subscribe(_ pattern: String, completingFiredEntries handler: @escaping FiredEntryHandler) throws -> Subscription {
        let parsed = try TypePattern(pattern)
        let id = dispatcher.registry.add(parsed, completingFiredEntries: handler)
        return Subscription(pattern: parsed, id: id, registry: dispatcher.registry)
    }

    /// Publishes `event` once, `delay` from now.
    @discardableResult
    public func schedule(_ event: Event, after delay: Duration) throws -> ScheduleID {
        try scheduler.schedule(event, after: delay)
    }

    /// Publishes `event` once at `time`.
    @discardableResult
    public func schedule(_ event: Event, at time: Timestamp) throws -> ScheduleID {
        try scheduler.schedule(event, at: time)
    }

    /// Publishes `event` once at `time`; returns the entry's id and the event's sealed form (nil
    /// when encryption is off). The event is sealed once: the store keeps that envelope and the
    /// queue takes it when the entry fires, and a caller that stores the event too (the history)
    /// can keep it rather than seal the event again.
    ///
    /// `fromHandler: true` is for handlers on worker threads: an entry already due is then queued
    /// from the calling thread instead of through the scheduler's timer thread. When the store
    /// keeps no envelopes (`ScheduledEntryStore.keepsSealedEvents`), the event is not sealed
    /// alone (nil is returned): it is held with the worker's other publishes and sealed in their
    /// batch, or sealed when it fires later.
    public func scheduleSealed(_ event: Event, at time: Timestamp, fromHandler: Bool = false) throws -> (id: ScheduleID, sealed: SealedEvent?) {
        let entry = try scheduler.scheduleEntry(event, at: time, fromHandler: fromHandler)
        return (entry.id, entry.sealed)
    }

    /// Publishes `event` once at `time` under `key` (see `Scheduler.schedule(_:at:key:whenPending:fromHandler:)`).
    public func schedule(
        _ event: Event, at time: Timestamp, key: String, whenPending: Scheduler.WhenPending, fromHandler: Bool = false
    ) throws -> Scheduler.KeyedOutcome {
        try scheduler.schedule(event, at: time, key: key, whenPending: whenPending, fromHandler: fromHandler)
    }

    /// Publishes a copy of `event` every `period`.
    @discardableResult
    public func schedule(_ event: Event, every period: Duration) throws -> ScheduleID {
        try scheduler.schedule(event, every: period)
    }

    /// Cancels a scheduled entry; returns false when it was not pending.
    @discardableResult
    public func cancel(_ id: ScheduleID) throws -> Bool {
        try scheduler.cancel(id)
    }

    /// Starts the workers, then the scheduler, which publishes the stored entries that are already
    /// due before this returns — into a queue the workers already drain, however many there are.
    ///
    /// A handler that stops the system while this runs leaves the scheduler stopped, not started.
    public func start() throws {
        let running = try dispatcher.start()
        do {
            try scheduler.start(publishingThrough: running)
        } catch let error as EventsError where error.code == .alreadyStarted && scheduler.isStopped {
            return  // stop() ran meanwhile (a handler of an event queued before start)
        }
    }

    /// Stops the scheduler, then lets the workers finish every queued and in-flight event; later publishes throw `closed`.
    public func stop() {
        scheduler.stop()
        dispatcher.stop()
    }

    /// Stops at once: in-flight events finish, queued ones are handed back undelivered.
    public func stopNow() -> [Event] {
        scheduler.stop()
        return dispatcher.stopNow()
    }

    /// Published, delivered and failed counts and the queue depth.
    public var counters: EventCounters { dispatcher.counters }
}
