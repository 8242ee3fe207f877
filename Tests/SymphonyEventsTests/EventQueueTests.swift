import Foundation
import Synchronization
import Testing
@testable import SymphonyEvents
import SymphonyConcurrency

@Suite struct EventQueueTests {
    @Test("lower priorities come out first, and equal priorities in arrival order")
    func priorityThenFIFO() throws {
        let queue = EventQueue<String>()
        let pushes: [(String, Int)] = [("a5", 5), ("b9", 9), ("c0", 0), ("d5", 5), ("e0", 0), ("f3", 3), ("g5", 5)]
        for (name, priority) in pushes { try queue.push(name, priority: priority) }
        queue.close()
        var popped: [String] = []
        while let name = queue.pop() { popped.append(name) }
        #expect(popped == ["c0", "e0", "f3", "a5", "d5", "g5", "b9"])
    }

    @Test("pushes and pops interleaved over 101 priorities (more than the lanes kept when empty) come out as a stable sort by priority would give them")
    func manyPrioritiesMatchAModel() throws {
        let queue = EventQueue<Int>()
        var model: [(priority: Int, value: Int)] = []  // what is queued, in arrival order
        var state: UInt64 = 11
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for value in 0..<5_000 {
            if next(3) > 0 || model.isEmpty {
                let priority = next(101) - 50
                try queue.push(value, priority: priority)
                model.append((priority, value))
            } else {
                // The model's next: the lowest priority, oldest first.
                let index = model.indices.min { model[$0].priority != model[$1].priority ? model[$0].priority < model[$1].priority : $0 < $1 }!
                #expect(queue.pop() == model.remove(at: index).value)
            }
            #expect(queue.count == model.count)
        }
        #expect(queue.countByPriority == Dictionary(model.map { ($0.priority, 1) }, uniquingKeysWith: +))
        #expect(queue.removeAll() == model.sorted { $0.priority < $1.priority }.map(\.value))  // `sorted` is stable
        #expect(queue.count == 0)
    }

    @Test("a full queue with the fail policy throws 'full' and keeps what it had")
    func failWhenFull() throws {
        let queue = EventQueue<Int>(capacity: 2, whenFull: .fail)
        try queue.push(1, priority: 5)
        try queue.push(2, priority: 5)
        let error = #expect(throws: EventsError.self) { try queue.push(3, priority: 0) }
        #expect(error?.code == .full)
        #expect(error?.message == "The event queue is full (2 events); try again later or raise its capacity.")
        #expect(queue.count == 2)
    }

    @Test("a full queue with the wait policy makes the producer wait until a consumer makes room")
    func waitWhenFull() throws {
        let queue = EventQueue<Int>(capacity: 1, whenFull: .wait)
        try queue.push(0, priority: 5)
        let pushed = Atomic<Int>(0)
        let producerDone = DispatchSemaphore(value: 0)
        let producer = Thread {
            for value in 1...50 {
                try? queue.push(value, priority: 5)
                pushed.add(1, ordering: .relaxed)
            }
            producerDone.signal()
        }
        producer.start()
        var received: [Int] = []
        while received.count < 51, let value = queue.pop() {
            #expect(queue.count <= 1)
            received.append(value)
        }
        #expect(received == Array(0...50))
        #expect(producerDone.wait(timeout: .now() + 300) == .success)
        #expect(pushed.load(ordering: .relaxed) == 50)
    }

    @Test("close wakes a consumer blocked on an empty queue, which gets nil")
    func closeWakesConsumers() {
        let queue = EventQueue<Int>()
        let results = Locked<[Int?]>([])
        let started = DispatchGroup()
        let done = DispatchGroup()
        for _ in 0..<3 {
            started.enter()
            done.enter()
            Thread {
                started.leave()
                let value = queue.pop()
                results.withLock { $0.append(value) }
                done.leave()
            }.start()
        }
        started.wait()
        #expect(waitUntil { queue.blockedConsumers == 3 })  // all three are inside pop(), asleep
        queue.close()
        #expect(done.wait(timeout: .now() + 300) == .success)
        #expect(results.withLock { $0 } == [nil, nil, nil])
    }

    @Test("a consumer that finds the queue empty watches less after each watch that found nothing (down to one yield), and still gets what is pushed while it sleeps")
    func watchingBudget() throws {
        let queue = EventQueue<Int>()
        #expect(queue.currentYieldBudget == EventQueue<Int>.yieldsBeforeSleeping)
        var budgets: [Int] = []
        for value in 1...6 {
            let got = Locked<Int?>(nil)
            let done = DispatchSemaphore(value: 0)
            Thread {
                got.withLock { $0 = queue.pop() }
                done.signal()
            }.start()
            // Asleep: its watch found nothing (nothing is pushed until then).
            #expect(waitUntil { queue.blockedConsumers == 1 })
            budgets.append(queue.currentYieldBudget)
            try queue.push(value, priority: 5)
            #expect(done.wait(timeout: .now() + 300) == .success)
            #expect(got.withLock { $0 } == value)
        }
        #expect(budgets == [8, 4, 2, 1, 1, 1])
        // An element already queued is taken without watching: the budget stays.
        try queue.push(7, priority: 5)
        #expect(queue.pop() == 7)
        #expect(queue.currentYieldBudget == 1)
        // An element that arrives during the last (here the only) yield is found: the budget doubles.
        Self.closeLater(queue)
        queue.yieldWhileWatching = { [weak queue] in try? queue?.push(8, priority: 5) }
        #expect(queue.pop() == 8)
        #expect(queue.currentYieldBudget == 2)
        #expect(queue.pop() == 8)
        #expect(queue.currentYieldBudget == 4)
        queue.close()
        #expect(queue.pop() == nil)
    }

    /// Closes `queue` after five minutes if it is still there: a pop that a test expects a watch
    /// to feed then returns nil (a failed expectation) instead of sleeping for ever.
    static func closeLater(_ queue: EventQueue<Int>) {
        DispatchQueue.global().asyncAfter(deadline: .now() + 300) { [weak queue] in queue?.close() }
    }

    @Test("an element pushed while a consumer watches is taken without sleeping, and the next watch is twice as long (up to the most)")
    func watchingFinds() throws {
        let queue = EventQueue<Int>()
        Self.closeLater(queue)
        let next = Atomic<Int>(0)
        // Each watch's first yield pushes an element, as a producer on another core would.
        queue.yieldWhileWatching = { [weak queue] in try? queue?.push(next.add(1, ordering: .relaxed).newValue, priority: 5) }
        var budgets: [Int] = []
        var popped: [Int] = []
        for _ in 0..<3 {
            popped.append(queue.pop() ?? -1)
            budgets.append(queue.currentYieldBudget)
        }
        #expect(popped == [1, 2, 3])
        #expect(budgets == Array(repeating: EventQueue<Int>.yieldsBeforeSleeping, count: 3))
        #expect(queue.blockedConsumers == 0)
        // From a halved budget it doubles back.
        queue.yieldWhileWatching = {}
        let sleeper = DispatchSemaphore(value: 0)
        Thread {
            _ = queue.pop()
            sleeper.signal()
        }.start()
        #expect(waitUntil { queue.blockedConsumers == 1 })
        #expect(queue.currentYieldBudget == EventQueue<Int>.yieldsBeforeSleeping / 2)
        try queue.push(0, priority: 5)
        #expect(sleeper.wait(timeout: .now() + 300) == .success)
        queue.yieldWhileWatching = { [weak queue] in try? queue?.push(next.add(1, ordering: .relaxed).newValue, priority: 5) }
        #expect(queue.pop() == 4)
        #expect(queue.currentYieldBudget == EventQueue<Int>.yieldsBeforeSleeping)
    }

    @Test("close wakes a producer blocked on a full queue, which gets 'closed'")
    func closeWakesProducers() throws {
        let queue = EventQueue<Int>(capacity: 1)
        try queue.push(1, priority: 5)
        let outcome = Locked<EventsError?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do { try queue.push(2, priority: 5) } catch let error as EventsError { outcome.withLock { $0 = error } } catch {}
            done.signal()
        }.start()
        #expect(waitUntil { queue.blockedProducers == 1 })  // the producer is inside push(), asleep
        queue.close()
        #expect(done.wait(timeout: .now() + 300) == .success)
        #expect(outcome.withLock { $0?.code } == .closed)
    }

    @Test("a consumer's push never waits, may go past capacity, and is still accepted after close; the queue drains it")
    func consumerPushes() throws {
        let queue = EventQueue<Int>(capacity: 1)
        try queue.push(1, priority: 5)
        try queue.push(2, priority: 5, fromConsumer: true)  // full: past capacity instead of waiting
        #expect(queue.count == 2)
        queue.close()
        #expect(throws: EventsError.self) { try queue.push(3, priority: 5) }
        try queue.push(4, priority: 5, fromConsumer: true)
        #expect([queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [1, 2, 4, nil])
    }

    @Test("a closed queue refuses pushes but drains what it holds, then returns nil")
    func drainAfterClose() throws {
        let queue = EventQueue<Int>()
        try queue.push(1, priority: 1)
        try queue.push(2, priority: 2)
        queue.close()
        let error = #expect(throws: EventsError.self) { try queue.push(3, priority: 0) }
        #expect(error?.message == "The event queue is closed; no more events are accepted.")
        #expect(queue.pop() == 1)
        #expect(queue.pop() == 2)
        #expect(queue.pop() == nil)
        #expect(queue.isClosed)
    }

    @Test("a timed pop returns the element, times out on an empty queue, and reports closed")
    func timedPop() throws {
        let queue = EventQueue<Int>()
        try queue.push(7, priority: 5)
        guard case .element(7) = queue.pop(timeout: .seconds(5)) else {
            Issue.record("expected the queued element")
            return
        }
        guard case .timedOut = queue.pop(timeout: .milliseconds(5)) else {
            Issue.record("expected a time-out on an empty open queue")
            return
        }
        // Negative timeouts mean "now" — also below a second, where Duration has 0 seconds and negative attoseconds.
        for timeout in [Duration.milliseconds(-5), .seconds(-2), .zero] {
            guard case .timedOut = queue.pop(timeout: timeout) else {
                Issue.record("expected an immediate time-out for \(timeout)")
                return
            }
        }
        queue.close()
        guard case .closed = queue.pop(timeout: .seconds(5)) else {
            Issue.record("expected closed")
            return
        }
    }

    @Test("removeAll hands back everything in pop order")
    func removeAll() throws {
        let queue = EventQueue<Int>()
        for value in [5, 3, 9, 1] { try queue.push(value, priority: value) }
        #expect(queue.removeAll() == [1, 3, 5, 9])
        #expect(queue.count == 0)
    }

    @Test("batch pops keep priority order and report the end of a closed queue")
    func batchPop() throws {
        let queue = EventQueue<Int>()
        for value in [4, 2, 8, 6, 0] { try queue.push(value, priority: value) }
        queue.close()
        var batch: [Int] = []
        #expect(queue.pop(upTo: 3, into: &batch))
        #expect(batch == [0, 2, 4])
        batch.removeAll()
        #expect(queue.pop(upTo: 3, into: &batch))
        #expect(batch == [6, 8])
        #expect(!queue.pop(upTo: 3, into: &batch))
    }

    @Test("many producers and consumers move every element exactly once")
    func concurrentProducersAndConsumers() throws {
        let queue = EventQueue<Int>(capacity: 64)
        let received = Locked<[Int]>([])
        let consumers = DispatchGroup()
        for _ in 0..<3 {
            consumers.enter()
            Thread {
                var local: [Int] = []
                while let value = queue.pop() { local.append(value) }
                received.withLock { $0 += local }
                consumers.leave()
            }.start()
        }
        onThreads(4) { producer in
            for index in 0..<5_000 { try? queue.push(producer * 5_000 + index, priority: index % 10) }
        }
        queue.close()
        consumers.wait()
        #expect(received.withLock { $0.sorted() } == Array(0..<20_000))
    }
}

/// Polls `condition` until it holds (true) or 300 s pass (false): for waiting on another thread's
/// state, not on time.
func waitUntil(_ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + .seconds(300)
    while !condition() {
        if ContinuousClock.now > deadline { return false }
        usleep(1_000)
    }
    return true
}
