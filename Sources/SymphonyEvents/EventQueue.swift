import DequeModule
import Glibc
import SymphonyConcurrency
import Synchronization

/// A bounded, thread-safe priority queue: priority 0 first, first-in first-out among equal priorities.
///
/// - Weight: an element may stand for several events (a batch sealed as one); it is pushed with
///   its weight, and the capacity, `count` and `pop(upTo:into:)` count weight, not elements.
///
/// - Blocking: `pop()` on an empty queue first yields its CPU a few times (`yieldsBeforeSleeping`),
///   watching for an element, then sleeps on a condition variable until one arrives or the queue
///   is closed. `pop(timeout:)` sleeps at once and gives up after a time.
/// - Back-pressure: at `capacity`, `push` either waits for room (`.wait`) or throws `full` (`.fail`).
/// - Closing: `close()` refuses further pushes (they throw `closed`) and wakes every waiter.
///   Elements already queued are still handed out — a closed queue drains — and `pop()` returns
///   nil only once the queue is closed *and* empty. `removeAll()` takes what is left at once.
// @unchecked Sendable: all mutable state is touched only while holding `lock`, except the watched
// mirrors and the yield budget (atomics) and `yieldWhileWatching` (set by tests while no consumer is in `pop`).
public final class EventQueue<Element: Sendable>: @unchecked Sendable {
    /// What `push` does when the queue is full.
    public enum WhenFull: Sendable {
        /// Wait until a consumer makes room (or the queue is closed).
        case wait
        /// Throw `EventsError.full` at once.
        case fail
    }

    /// What a timed pop found.
    public enum TimedPop {
        case element(Element)
        case timedOut
        case closed
    }

    private struct Entry {
        let weight: Int
        let element: Element

        /// The element, moved out of the entry (no copy and release of what it references).
        consuming func takeElement() -> Element { element }
    }

    /// The entries of one priority, oldest first.
    private struct Lane {
        let priority: Int
        var entries: Deque<Entry>
    }

    private static var notEmpty: Int { 0 }
    private static var notFull: Int { 1 }

    /// The most weight (events) the queue holds before `push` applies back-pressure.
    public let capacity: Int
    /// What `push` does at capacity.
    public let whenFull: WhenFull

    private let lock = ConditionLock(conditionCount: 2)
    /// One first-in first-out lane per priority in use, lowest priority first: a push appends to
    /// its lane and a pop takes from the first lane that has entries, in constant time (event
    /// priorities are 0–9), and no entry is moved or copied while others are queued.
    // Unchecked exclusivity (these five): read and written only under `lock` (the runtime's
    // dynamic check cost a begin and an end call per push and pop).
    @exclusivity(unchecked) private var lanes: [Lane] = []
    /// The weight the lanes hold: zero exactly when they are empty (every entry weighs at least 1).
    @exclusivity(unchecked) private var heldWeight = 0
    @exclusivity(unchecked) private var closed = false
    @exclusivity(unchecked) private var waitingConsumers = 0
    @exclusivity(unchecked) private var waitingProducers = 0
    /// `heldWeight` and `closed`, mirrored for consumers watching without the lock before they sleep.
    private let watchedWeight = Atomic<Int>(0)
    private let watchedClosed = Atomic<Bool>(false)

    /// The most times a consumer that found the queue empty yields its CPU (`sched_yield`),
    /// watching for an element, before it sleeps. An element pushed meanwhile is taken without a
    /// wake-up: no futex call for the producer, no sleep and wake for the consumer. At most about
    /// ten microseconds when no other thread wants the CPU; a thread that does gets it at each yield.
    static var yieldsBeforeSleeping: Int { 16 }
    /// How many yields the next empty-handed consumer makes: doubled (up to `yieldsBeforeSleeping`)
    /// each time watching found an element, halved (down to one) each time it did not, so that
    /// consumers stop spending CPU on watching while producers are slower than that.
    private let yieldBudget = Atomic<Int>(EventQueue.yieldsBeforeSleeping)
    /// How many yields the next empty-handed consumer makes (tests).
    var currentYieldBudget: Int { yieldBudget.load(ordering: .relaxed) }
    /// One yield of a watching consumer; tests replace it (while no consumer is in `pop`) to act during a watch.
    var yieldWhileWatching: @Sendable () -> Void = { sched_yield() }

    /// Consumers blocked in `pop` right now (tests wait for them before closing the queue).
    var blockedConsumers: Int { lock.withLock { waitingConsumers } }
    /// Producers blocked in `push` waiting for room right now.
    var blockedProducers: Int { lock.withLock { waitingProducers } }

    /// A queue holding at most `capacity` events (elements' weight).
    public init(capacity: Int = 65_536, whenFull: WhenFull = .wait) {
        precondition(capacity > 0, "an EventQueue needs a capacity of at least 1")
        self.capacity = capacity
        self.whenFull = whenFull
    }

    /// Adds `element` with `priority` (lower is served first).
    ///
    /// Throws `closed` after `close()`, and `full` at capacity when the policy is `.fail`.
    public func push(_ element: consuming Element, priority: Int) throws {
        try push(element, priority: priority, fromConsumer: false)
    }

    /// Adds `element`. With `fromConsumer` — for consumers that publish while handling an element —
    /// it never waits or fails for room (waiting on their own queue would deadlock; the queue may
    /// go past its capacity) and it is accepted even after `close()`, so that a draining consumer's
    /// follow-up work is not lost: the consumer that pushed it is still running and will pop it.
    public func push(_ element: consuming Element, priority: Int, fromConsumer: Bool) throws {
        lock.lock()
        defer { lock.unlock() }
        if fromConsumer {
            insert(element, priority: priority)
        } else {
            try waitForRoom(1)
            insert(element, priority: priority)
        }
        if waitingConsumers > 0 { lock.signal(Self.notEmpty) }
    }

    /// Adds all of `elements` (each with its priority and weight) or none: waits until their whole
    /// weight fits (or the queue is empty: a group heavier than the capacity still goes in alone),
    /// then inserts them in order with one lock acquisition and one wake-up.
    ///
    /// Throws `closed` after `close()` (also when it closes while waiting), and `full` when they do
    /// not fit and the policy is `.fail`; nothing was added then.
    ///
    /// With `fromConsumer`, as for a single push: it never waits or fails for room and is accepted after `close()`.
    public func push(allOf elements: [(element: Element, priority: Int, weight: Int)], fromConsumer: Bool = false) throws {
        lock.lock()
        defer { lock.unlock() }
        if !fromConsumer { try waitForRoom(elements.reduce(0) { $0 + $1.weight }) }
        for (element, priority, weight) in elements { insert(element, priority: priority, weight: weight) }
        if waitingConsumers > 0 && !elements.isEmpty {
            if elements.count > 1 { lock.broadcast(Self.notEmpty) } else { lock.signal(Self.notEmpty) }
        }
    }

    /// Waits (or, with `.fail`, does not) until `weight` more fits or the queue is empty; the lock
    /// must be held. Throws `closed` or `full` when it could not.
    private func waitForRoom(_ weight: Int) throws {
        while !closed && heldWeight > 0 && heldWeight + weight > capacity {
            guard whenFull == .wait else {
                throw EventsError(.full, "The event queue is full (\(capacity) events); try again later or raise its capacity.")
            }
            waitingProducers += 1
            lock.wait(Self.notFull)
            waitingProducers -= 1
        }
        guard !closed else {
            throw EventsError(.closed, "The event queue is closed; no more events are accepted.")
        }
    }

    /// Appends `element` to its priority's lane; the lock must be held.
    private func insert(_ element: consuming Element, priority: Int, weight: Int = 1) {
        precondition(weight > 0, "a queued element weighs at least 1")
        lanes[lane(for: priority)].entries.append(Entry(weight: weight, element: element))
        heldWeight += weight
        watchedWeight.store(heldWeight, ordering: .relaxed)
    }

    /// Removes the first entry and takes its weight off the queue's; the lock must be held.
    private func popFirstEntry() -> Entry? {
        guard let index = lanes.firstIndex(where: { !$0.entries.isEmpty }),
            let entry = lanes[index].entries.popFirst()
        else { return nil }
        // Lanes of priorities no longer used go once there are many (events use ten at most).
        if lanes[index].entries.isEmpty && lanes.count > Self.lanesKept { lanes.remove(at: index) }
        heldWeight -= entry.weight
        watchedWeight.store(heldWeight, ordering: .relaxed)
        return entry
    }

    /// The element with the lowest priority (oldest first), waiting as long as it takes; nil once closed and empty.
    public func pop() -> Element? {
        lock.lock()
        defer { lock.unlock() }
        waitWhileEmpty()
        return takeFirst()
    }

    /// Like `pop()`, but gives up after `timeout`.
    public func pop(timeout: Duration) -> TimedPop {
        lock.lock()
        defer { lock.unlock() }
        let deadline = ConditionLock.deadline(after: timeout)
        var timedOut = false
        while heldWeight == 0 && !closed && !timedOut {
            waitingConsumers += 1
            timedOut = !lock.wait(Self.notEmpty, until: deadline)
            waitingConsumers -= 1
        }
        if let element = takeFirst() { return .element(element) }
        return closed ? .closed : .timedOut
    }

    /// Moves elements, in order, into `batch` until they weigh `maximum` or more (at least one
    /// element, however heavy), waiting until there is one; returns false once closed and empty.
    ///
    /// Taking a few at a time saves lock hand-offs; an element that arrives while a batch is being
    /// handled waits for the next batch even if its priority is higher.
    public func pop(upTo maximum: Int, into batch: inout [Element]) -> Bool {
        precondition(maximum > 0, "a take needs room for at least one event")
        lock.lock()
        defer { lock.unlock() }
        waitWhileEmpty()
        guard heldWeight > 0 else { return false }
        var taken = 0
        while taken < maximum, let entry = popFirstEntry() {
            taken += entry.weight
            batch.append(entry.takeElement())
        }
        if waitingProducers > 0 { lock.broadcast(Self.notFull) }
        return true
    }

    /// Refuses further pushes and wakes every waiting producer and consumer; queued elements stay to be drained.
    public func close() {
        lock.withLock {
            closed = true
            watchedClosed.store(true, ordering: .relaxed)
            lock.broadcast(Self.notEmpty)
            lock.broadcast(Self.notFull)
        }
    }

    /// Removes and returns every queued element in pop order.
    public func removeAll() -> [Element] {
        lock.withLock {
            var elements: [Element] = []
            elements.reserveCapacity(lanes.reduce(0) { $0 + $1.entries.count })
            while let entry = popFirstEntry() { elements.append(entry.takeElement()) }
            if waitingProducers > 0 { lock.broadcast(Self.notFull) }
            return elements
        }
    }

    /// How much weight (how many events) is queued.
    public var count: Int { lock.withLock { heldWeight } }

    /// How much weight (how many events) is queued at each priority that has any. It walks the whole queue under
    /// the lock (up to `capacity` elements), so it is for occasional reads such as a metrics scrape,
    /// and costs the hot path nothing.
    public var countByPriority: [Int: Int] {
        lock.withLock {
            var counts: [Int: Int] = [:]
            for lane in lanes where !lane.entries.isEmpty { counts[lane.priority] = lane.entries.reduce(0) { $0 + $1.weight } }
            return counts
        }
    }

    /// True after `close()`.
    public var isClosed: Bool { lock.withLock { closed } }

    /// Waits until there is an element or the queue is closed, yielding the CPU a few times
    /// (`yieldsBeforeSleeping`) before sleeping on `notEmpty`; the lock must be held, and is held on return.
    private func waitWhileEmpty() {
        guard heldWeight == 0 && !closed else { return }
        lock.unlock()
        // The watched values are only a hint: what counts is read again under the lock below.
        let budget = yieldBudget.load(ordering: .relaxed)
        var yields = 0
        while yields < budget && watchedWeight.load(ordering: .relaxed) == 0 && !watchedClosed.load(ordering: .relaxed) {
            yieldWhileWatching()
            yields += 1
        }
        lock.lock()
        // Found: something arrived during the watch (an arrival in its last yield counts too).
        let found = heldWeight > 0 || closed
        yieldBudget.store(found ? min(Self.yieldsBeforeSleeping, budget * 2) : max(1, budget / 2), ordering: .relaxed)
        while heldWeight == 0 && !closed {
            waitingConsumers += 1
            lock.wait(Self.notEmpty)
            waitingConsumers -= 1
        }
    }

    /// The most lanes kept when empty: more distinct priorities than this, and emptied lanes are removed.
    private static var lanesKept: Int { 16 }

    /// The index of `priority`'s lane, made (in priority order) when there is none; the lock must be held.
    private func lane(for priority: Int) -> Int {
        var low = 0
        var high = lanes.count
        while low < high {
            let middle = (low + high) / 2
            if lanes[middle].priority < priority { low = middle + 1 } else { high = middle }
        }
        if low == lanes.count || lanes[low].priority != priority {
            lanes.insert(Lane(priority: priority, entries: Deque(minimumCapacity: 64)), at: low)
        }
        return low
    }

    private func takeFirst() -> Element? {
        guard let entry = popFirstEntry() else { return nil }
        // Every waiting producer: they wait for different weights, and the one a signal woke might not fit yet.
        if waitingProducers > 0 { lock.broadcast(Self.notFull) }
        return entry.takeElement()
    }
}
