import SymphonyCrypto
import Synchronization
import SymphonyConcurrency

/// Takes events off the queue on N worker threads and hands each to the handlers whose pattern matches its type.
///
/// - A handler that throws never stops its worker and never loses the event: the event and the
///   error go to the dead-letter sink, and the event's other handlers still run.
/// - With a sealer, events are sealed on `publish` and opened on the worker; an envelope that
///   does not open goes to the dead-letter sink and the other events carry on.
/// - `stop()` finishes every queued and in-flight event; `stopNow()` finishes only the in-flight
///   ones and hands back the rest.
public final class EventDispatcher: Sendable {
    /// The handler registry the workers consult.
    public let registry: HandlerRegistry
    /// The number of worker threads.
    public let workerCount: Int

    let queue: EventQueue<QueuedEvent>
    private let sealer: EnvelopeSealer?
    /// Whether this dispatcher's sealer opens only envelopes it sealed (tests).
    var sealerOpensOnlyItsOwnEnvelopes: Bool? { sealer?.opensOnlyItsOwnEnvelopes }
    private let deadLetters: any DeadLetterSink
    private let liveCounters = AtomicEventCounters()
    private let workers = Locked<[WorkerThread]?>(nil)
    private let idleLock = ConditionLock()
    private let idleWaiters = Atomic<Int>(0)
    private let started = Atomic<Bool>(false)
    private let completeFired: (@Sendable (FiredEntry, Event) -> Void)?

    /// The default worker count: the number of cores.
    public static var defaultWorkerCount: Int { max(1, ProcessorInfoLite.activeProcessorCount) }

    /// A dispatcher over a new queue; `sealer` nil means events are queued in plaintext.
    ///
    /// `completeFired` completes the fired scheduled entry of an event no handler subscribed with
    /// `completingFiredEntries` matched, after every handler of the event ran.
    public init(
        workerCount: Int = EventDispatcher.defaultWorkerCount, queueCapacity: Int = 65_536,
        whenFull: EventQueue<QueuedEvent>.WhenFull = .wait, sealer: EnvelopeSealer?,
        deadLetters: any DeadLetterSink, registry: HandlerRegistry = HandlerRegistry(),
        completeFired: (@Sendable (FiredEntry, Event) -> Void)? = nil
    ) {
        precondition(workerCount > 0, "a dispatcher needs at least one worker")
        self.workerCount = workerCount
        self.queue = EventQueue(capacity: queueCapacity, whenFull: whenFull)
        self.sealer = sealer
        self.deadLetters = deadLetters
        self.registry = registry
        self.completeFired = completeFired
    }

    /// Queues `event` (sealing it first when encryption is on); may wait or throw when the queue is full or closed.
    /// Returns the sealed form the queue holds (nil when encryption is off), so a caller that also
    /// stores the event — the history — can keep that envelope instead of sealing the event again.
    ///
    /// `fromHandler: true` is for events published by handlers on worker threads: those never wait
    /// for room (a worker waiting on its own queue could deadlock), may exceed the capacity, and
    /// are accepted while `stop()` drains the queue, so derived events of in-flight events are delivered too.
    ///
    /// On one of this dispatcher's workers, a handler's event is held until the worker has handled
    /// what it took from the queue, then queued with the others its handlers published meanwhile:
    /// like input events, those of one priority are sealed as one batch. It is counted as published
    /// at once, and nil is returned (there is no envelope of its own to reuse).
    @discardableResult
    public func publish(_ event: Event, fromHandler: Bool = false) throws -> SealedEvent? {
        try Event.validate(event)
        if fromHandler, hold(event, fired: nil) { return nil }
        // A handler's publish is timed as part of its action (`actions`), not as `queue`: stages do not nest.
        let start = fromHandler ? 0 : StageTimes.shared.mark()
        let sealed = try sealer.map { try SealedEvent(sealing: event, with: $0) }
        StageTimes.shared.add(.queue, since: start)
        try queue.push(sealed.map(QueuedEvent.sealed) ?? .plain(event), priority: event.priority, fromConsumer: fromHandler)
        liveCounters.published.add(1, ordering: .relaxed)
        return sealed
    }

    /// Queues `events` in groups of up to `eventsPerEnvelope`, one queue hand-off per group, and
    /// returns how many were queued: a prefix of `events`, shorter when the queue closed part-way or
    /// (with `.fail`) filled up. Throws when none was queued, or when one of them is invalid or
    /// cannot be sealed (every event is validated and sealed before any is queued: then none is).
    ///
    /// With encryption on, the events of a group that share a priority are sealed as one
    /// `SealedBatch`, and one worker handles them in order; the queue orders batches by priority
    /// like single events. Each group is queued whole or not at all.
    @discardableResult
    public func publish(contentsOf events: [Event]) throws -> Int {
        for event in events { try Event.validate(event) }
        let groups = try Self.groups(of: events).map { (items: try queueItems(for: $0), count: $0.count) }
        var queued = 0
        for group in groups {
            do {
                try queue.push(allOf: group.items)
            } catch let error as EventsError where queued > 0 && (error.code == .closed || error.code == .full) {
                break  // the groups before were queued: report those
            }
            liveCounters.published.add(group.count, ordering: .relaxed)
            queued += group.count
        }
        return queued
    }

    /// The most events `publish(contentsOf:)` seals under one envelope.
    public static let eventsPerEnvelope = 64

    /// `events` cut into groups of up to `eventsPerEnvelope`, in order.
    private static func groups(of events: [Event]) -> [ArraySlice<Event>] {
        stride(from: events.startIndex, to: events.endIndex, by: eventsPerEnvelope).map {
            events[$0..<min($0 + eventsPerEnvelope, events.endIndex)]
        }
    }

    /// What the queue takes for `events`: with encryption on, one batch per priority (the events
    /// of each in order); with it off, each event as it is. `fired` holds the scheduled entries
    /// some of them were fired by, by index in `events`' base.
    private func queueItems(
        for events: ArraySlice<Event>, fired: [Int: FiredEntry] = [:]
    ) throws -> [(element: QueuedEvent, priority: Int, weight: Int)] {
        guard let sealer else {
            return events.indices.map { index in
                let event = events[index]
                return (fired[index].map { .fired(.plain(event), $0) } ?? .plain(event), event.priority, 1)
            }
        }
        let start = StageTimes.shared.mark()
        defer { StageTimes.shared.add(.queue, since: start) }
        // Grouped by index and sealed in place: the events themselves are not copied.
        let offset = events.startIndex  // buffer index 0 is this slice's first event
        return try events.withUnsafeBufferPointer { events in
            var items: [(element: QueuedEvent, priority: Int, weight: Int)] = []
            var indices: [Int] = []
            indices.reserveCapacity(events.count)
            var grouped = 0
            for priority in Event.priorities {
                indices.removeAll(keepingCapacity: true)
                for index in events.indices where events[index].priority == priority { indices.append(index) }
                guard !indices.isEmpty else { continue }
                let batch = try SealedBatch(sealing: events, at: indices, priority: priority, with: sealer)
                let entries = fired.isEmpty ? [] : indices.map { fired[$0 + offset] }
                let item: QueuedEvent = entries.contains { $0 != nil } ? .firedBatch(batch, entries) : .batch(batch)
                items.append((item, priority, indices.count))
                grouped += indices.count
            }
            precondition(grouped == events.count, "every queued event has a priority of 0…9 (callers validate it)")
            return items
        }
    }

    /// Queues the event a one-shot scheduled entry fired (`fired`; nil for a periodic entry's copy):
    /// `sealed`, its envelope made when it was scheduled, is queued as is when it is this event
    /// sealed under this dispatcher's active key, else the event is sealed here (when encryption
    /// is on). Returns the sealed form queued. The entry is completed once the event was handled.
    ///
    /// `fromHandler` as for `publish(_:fromHandler:)`: a worker firing a due entry itself never
    /// waits for room. With `holding` too, on one of this dispatcher's workers, the event is held
    /// like a handler's publish and sealed in the batch of its priority (nil is returned); if the
    /// event cannot be sealed (`queueHeld`), it goes to the dead-letter sink and its entry is completed.
    @discardableResult
    public func publish(
        fired event: Event, sealed: SealedEvent?, entry fired: FiredEntry?, fromHandler: Bool = false, holding: Bool = false
    ) throws -> SealedEvent? {
        try Event.validate(event)
        if holding, fromHandler, hold(event, fired: fired) { return nil }
        var queued: SealedEvent?
        if let sealer {
            if let sealed, sealed.id == event.id, sealed.type == event.type, sealed.priority == event.priority,
                EnvelopeFormat.keyID(of: sealed.envelope) == sealer.keyRing.activeKey.id
            {
                queued = sealed
            } else {
                queued = try SealedEvent(sealing: event, with: sealer)
            }
        }
        let item = queued.map(QueuedEvent.sealed) ?? .plain(event)
        try queue.push(fired.map { .fired(item, $0) } ?? item, priority: event.priority, fromConsumer: fromHandler)
        liveCounters.published.add(1, ordering: .relaxed)
        return queued
    }

    /// Queues an event that is already sealed (for example one read back from storage) without re-encrypting it.
    ///
    /// The envelope is not checked here: one that does not open reaches the dead-letter sink on a worker.
    public func publish(_ sealed: SealedEvent) throws {
        try Event.validate(type: sealed.type, priority: sealed.priority)
        try Event.validate(id: sealed.id, source: nil)  // the source is inside the envelope, not opened here
        try queue.push(.sealed(sealed), priority: sealed.priority)
        liveCounters.published.add(1, ordering: .relaxed)
    }

    /// Starts the worker threads; throws `alreadyStarted` on a second call.
    ///
    /// Returns the handle a scheduler needs to start publishing into this dispatcher
    /// (`Scheduler.start(publishingThrough:)`): the workers exist before anything it fires is queued.
    @discardableResult
    public func start() throws -> RunningDispatcher {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw EventsError(.alreadyStarted, "The dispatcher was already started; make a new one to start again.")
        }
        let threads = (0..<workerCount).map { _ in
            WorkerThread(name: "sym-worker") { [self] in runWorker() }
        }
        workers.withLock { $0 = threads }
        return RunningDispatcher(self)
    }

    /// Stops accepting events, lets the workers finish everything queued and in flight, and waits for them.
    ///
    /// A dispatcher that was never started starts its workers first, so queued events are still delivered.
    public func stop() {
        if !started.load(ordering: .acquiring) { _ = try? start() }
        queue.close()
        joinWorkers()
    }

    /// Stops accepting events, takes back everything still queued, lets in-flight events finish, and returns what was not delivered.
    ///
    /// Returned events are opened; an envelope that does not open goes to the dead-letter sink instead.
    public func stopNow() -> [Event] {
        queue.close()
        let remaining = queue.removeAll()
        joinWorkers()
        return remaining.flatMap { open($0) }
    }

    /// Waits until every published event has been handled (the queue is empty and nothing is in flight).
    ///
    /// Meaningful only while nothing else publishes; used at shutdown to let chains of derived events settle.
    public func waitUntilIdle() {
        idleWaiters.add(1, ordering: .sequentiallyConsistent)
        defer { idleWaiters.subtract(1, ordering: .sequentiallyConsistent) }
        idleLock.withLock {
            while !isIdle {
                _ = idleLock.wait(timeout: .milliseconds(100))  // a bound in case a wake-up is missed
            }
        }
    }

    /// Handled events are read before published ones, with acquiring loads that pair with the
    /// releasing increments of `delivered` and `failed`: an event counted as handled was published
    /// after everything it derived, so a derived event cannot be missed between the two reads.
    private var isIdle: Bool {
        let handled = liveCounters.delivered.load(ordering: .acquiring) + liveCounters.failed.load(ordering: .acquiring)
        return liveCounters.published.load(ordering: .acquiring) == handled
    }

    private func noteProcessed() {
        if idleWaiters.load(ordering: .sequentiallyConsistent) > 0 {
            idleLock.withLock { idleLock.broadcast() }
        }
    }

    /// What the dispatcher has done so far.
    public var counters: EventCounters { liveCounters.snapshot(queueDepth: queue.count) }

    /// Queued events by priority (priorities with none are left out); it walks the queue, so read it
    /// occasionally (a metrics scrape), not per event.
    public var queueDepthByPriority: [Int: Int] { queue.countByPriority }

    /// Waits for the workers to finish. Called from a handler (a worker thread), it returns at once:
    /// the queue is closed, so the workers finish on their own, and a later call from outside waits for them.
    private func joinWorkers() {
        let threads = workers.withLock { threads -> [WorkerThread] in
            if threads?.contains(where: \.isCurrent) == true { return [] }
            defer { threads = [] }
            return threads ?? []
        }
        for thread in threads { thread.join() }
    }

    private func runWorker() {
        let held = HeldPublishes(dispatcher: self)
        held.makeCurrent()
        defer { HeldPublishes.clearCurrent() }
        var batch: [QueuedEvent] = []
        batch.reserveCapacity(Self.batchSize)
        withExtendedLifetime(held) {
            while queue.pop(upTo: Self.batchSize, into: &batch) {
                for item in batch { deliver(item) }
                batch.removeAll(keepingCapacity: true)
                queueHeld(held)
                noteProcessed()
            }
        }
        assert(held.events.isEmpty, "a worker stopped with events its handlers published still held")
    }

    /// Holds `event` (fired by `fired`, if any) with the events handlers published on this
    /// dispatcher's worker, counting it as published; false on any other thread.
    private func hold(_ event: Event, fired: FiredEntry?) -> Bool {
        guard let held = HeldPublishes.current, held.dispatcher === self else { return false }
        if let fired { held.firedEntries[held.events.count] = fired }
        held.events.append(event)
        liveCounters.published.add(1, ordering: .relaxed)
        return true
    }

    /// Queues the events handlers published on this worker while it handled its last take (see
    /// `publish(_:fromHandler:)`): they never wait for room and are accepted while the queue drains.
    /// A group that cannot be sealed is queued without the events that cannot be encoded (see
    /// `queueEncodable`), so one bad event does not take the others with it.
    func queueHeld(_ held: HeldPublishes) {
        // Until none is left: a dead-letter sink called from here may publish in turn.
        while !held.events.isEmpty {
            let events = held.events
            let fired = held.firedEntries
            held.events.removeAll(keepingCapacity: true)
            held.firedEntries.removeAll()
            for group in Self.groups(of: events) {
                do {
                    try queue.push(allOf: queueItems(for: group, fired: fired), fromConsumer: true)
                } catch {
                    queueEncodable(group, fired: fired)
                }
            }
        }
    }

    /// After `group` could not be sealed: each event whose body cannot be encoded (a payload tree
    /// nested deeper than the encoding allows; checking costs no nonce) goes to the dead-letter
    /// sink, and the others are sealed again as one group, so those of one priority still share a
    /// batch and keep their order. When that fails too (the key's nonces are used up), they go to
    /// the sink as well. A dead-lettered event's scheduled entry is completed: the event is in the
    /// letter, not lost.
    private func queueEncodable(_ group: ArraySlice<Event>, fired: [Int: FiredEntry]) {
        var encodable: [Event] = []
        var encodableFired: [Int: FiredEntry] = [:]
        var scratch: [UInt8] = []
        for index in group.indices {
            let event = group[index]
            do {
                scratch.removeAll(keepingCapacity: true)
                try EventBodyCodec.encodeForSealing(event, into: &scratch)
                if let entry = fired[index] { encodableFired[encodable.count] = entry }
                encodable.append(event)
            } catch {
                notQueued(event, entry: fired[index], error: error)
            }
        }
        guard !encodable.isEmpty else { return }
        do {
            try queue.push(allOf: queueItems(for: encodable[...], fired: encodableFired), fromConsumer: true)
        } catch {
            for index in encodable.indices { notQueued(encodable[index], entry: encodableFired[index], error: error) }
        }
    }

    /// Sends a held event that could not be queued to the dead-letter sink, counted as failed, and completes its scheduled entry.
    private func notQueued(_ event: Event, entry: FiredEntry?, error: any Error) {
        liveCounters.failed.add(1, ordering: .releasing)
        deadLetters.receive(DeadLetter(eventID: event.id, eventType: event.type, event: event, reason: .notQueued(error: error)))
        if let entry { completeFired?(entry, event) }
    }

    /// How many events a worker takes from the queue at a time (at least one element, however many events it holds).
    static let batchSize = 16

    private func deliver(_ item: QueuedEvent) {
        switch item {
        case .batch(let batch):
            for event in open(batch) { handle(event, fired: nil) }
        case .firedBatch(let batch, let entries):
            for (event, entry) in zip(open(batch), entries) { handle(event, fired: entry) }
        case .fired(let queued, let entry):
            if let event = open(single: queued) { handle(event, fired: entry) }
        case .plain, .sealed:
            if let event = open(single: item) { handle(event, fired: nil) }
        }
    }

    private func handle(_ event: Event, fired: FiredEntry?) {
        let handlers = registry.handlers(for: event.type)
        run(handlers, for: event, fired: fired)
        // After every handler ran; a handler subscribed with `completingFiredEntries` completes it itself.
        if let fired, let completeFired, !handlers.contains(where: \.completesFiredEntries) { completeFired(fired, event) }
    }

    private func run(_ handlers: [RegisteredHandler], for event: Event, fired: FiredEntry?) {
        if handlers.isEmpty {
            liveCounters.unmatched.add(1, ordering: .relaxed)
            liveCounters.delivered.add(1, ordering: .releasing)
            return
        }
        var anyFailed = false
        for registered in handlers {
            do {
                try registered.deliver(event, fired)
            } catch {
                anyFailed = true
                deadLetters.receive(
                    DeadLetter(
                        eventID: event.id, eventType: event.type, event: event,
                        reason: .handlerFailed(pattern: registered.pattern.text, error: error)))
            }
        }
        if anyFailed {
            liveCounters.failed.add(1, ordering: .releasing)
        } else {
            liveCounters.delivered.add(1, ordering: .releasing)
        }
    }

    /// The events inside `item` (for `stopNow`), or none after sending those of an envelope that
    /// does not open to the dead-letter sink.
    private func open(_ item: QueuedEvent) -> [Event] {
        switch item {
        case .batch(let batch), .firedBatch(let batch, _): return open(batch)
        default: return open(single: item).map { [$0] } ?? []
        }
    }

    /// The event inside a `.plain`, `.sealed` or `.fired` item, or nil after sending an envelope that
    /// does not open to the dead-letter sink (by the id and type beside it).
    private func open(single item: QueuedEvent) -> Event? {
        switch item {
        case .plain(let event):
            return event
        case .fired(let queued, _):
            return open(single: queued)
        case .sealed(let sealed):
            do {
                let sealer = try requireSealer()
                return try StageTimes.shared.measure(.queue) { try sealed.open(with: sealer) }
            } catch {
                undeliverable(ids: [sealed.id], types: [sealed.type], error: error)
                return nil
            }
        case .batch, .firedBatch:
            preconditionFailure("a batch holds several events: open it with open(_: SealedBatch)")
        }
    }

    /// The events of `batch`, in order, or none after sending each of them to the dead-letter sink (by id and type) when it does not open.
    private func open(_ batch: SealedBatch) -> [Event] {
        do {
            let sealer = try requireSealer()
            return try StageTimes.shared.measure(.queue) { try batch.open(with: sealer) }
        } catch {
            undeliverable(ids: batch.ids, types: batch.types, error: error)
            return []
        }
    }

    private func requireSealer() throws -> EnvelopeSealer {
        guard let sealer else { throw CryptoError(.unknownKey, "A sealed event reached a dispatcher without a key.") }
        return sealer
    }

    /// Counts the events of an envelope that did not open as failed and sends each to the dead-letter sink.
    private func undeliverable(ids: [String], types: [String], error: any Error) {
        liveCounters.failed.add(ids.count, ordering: .releasing)
        for (id, type) in zip(ids, types) {
            deadLetters.receive(DeadLetter(eventID: id, eventType: type, event: nil, reason: .undeliverable(error: error)))
        }
    }
}
