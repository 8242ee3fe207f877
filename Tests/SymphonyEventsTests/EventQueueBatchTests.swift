import Foundation
import Synchronization
import Testing
@testable import SymphonyEvents
import SymphonyConcurrency

/// `push(allOf:)`: many elements, each with a weight, added whole or not at all with one lock and one wake-up.
@Suite struct EventQueueBatchTests {
    @Test("a group keeps priority order, and arrival order among equal priorities, across groups and single pushes")
    func order() throws {
        let queue = EventQueue<String>()
        try queue.push(allOf: [("a5", 5, 1), ("b0", 0, 1), ("c5", 5, 1)])
        try queue.push("d0", priority: 0)
        try queue.push(allOf: [("e5", 5, 1), ("f0", 0, 1)])
        try queue.push(allOf: [])
        queue.close()
        var popped: [String] = []
        while let name = queue.pop() { popped.append(name) }
        #expect(popped == ["b0", "d0", "f0", "a5", "c5", "e5"])
    }

    @Test("the capacity, count and depth by priority count weight, not elements")
    func weights() throws {
        let queue = EventQueue<String>(capacity: 10, whenFull: .fail)
        try queue.push(allOf: [("a", 5, 4), ("b", 2, 4)])
        #expect(queue.count == 8)
        #expect(queue.countByPriority == [5: 4, 2: 4])
        let error = #expect(throws: EventsError.self) { try queue.push(allOf: [("c", 5, 1), ("d", 5, 2)]) }
        #expect(error?.code == .full)
        #expect(queue.count == 8)  // none of the group went in
        try queue.push("e", priority: 5)
        try queue.push("f", priority: 5)
        #expect(throws: EventsError.self) { try queue.push("g", priority: 5) }
        #expect(queue.count == 10)
        #expect(queue.pop() == "b")
        #expect(queue.count == 6)
    }

    @Test("a group heavier than the whole capacity goes in alone, into an empty queue")
    func heavierThanCapacity() throws {
        let queue = EventQueue<String>(capacity: 2, whenFull: .fail)
        try queue.push(allOf: [("big", 5, 5)])
        #expect(queue.count == 5)
        #expect(throws: EventsError.self) { try queue.push("small", priority: 0) }
        #expect(queue.pop() == "big")
        try queue.push("small", priority: 0)
    }

    @Test("a worker's pop takes elements until they weigh the maximum, and at least one however heavy")
    func popByWeight() throws {
        let queue = EventQueue<String>()
        try queue.push(allOf: [("heavy", 5, 10), ("a", 5, 1), ("b", 5, 1), ("c", 5, 1)])
        var batch: [String] = []
        #expect(queue.pop(upTo: 4, into: &batch))
        #expect(batch == ["heavy"])
        batch.removeAll()
        #expect(queue.pop(upTo: 2, into: &batch))
        #expect(batch == ["a", "b"])
        #expect(queue.count == 1)
    }

    @Test("with the wait policy a group waits until all of it fits, then goes in at once; nothing is lost")
    func waitsForRoom() throws {
        let queue = EventQueue<Int>(capacity: 4, whenFull: .wait)
        try queue.push(allOf: [(0, 5, 1), (1, 5, 1), (2, 5, 1)])
        let done = DispatchSemaphore(value: 0)
        let pushed = Atomic<Bool>(false)
        Thread {
            pushed.store((try? queue.push(allOf: [(3, 5, 1), (4, 5, 1)])) != nil, ordering: .relaxed)
            done.signal()
        }.start()
        // Bounded wait until the producer is blocked: the group of 2 does not fit beside 3.
        var waited = 0
        while queue.blockedProducers == 0 && waited < 300_000 {
            usleep(100)
            waited += 1
        }
        #expect(queue.blockedProducers == 1)
        #expect(queue.count == 3)
        #expect(queue.pop() == 0)  // now 2 + 2 fit
        #expect(done.wait(timeout: .now() + 300) == .success)
        let didPush = pushed.load(ordering: .relaxed)
        #expect(didPush)
        queue.close()
        var drained: [Int] = []
        while let value = queue.pop() { drained.append(value) }
        #expect(drained == [1, 2, 3, 4])
    }

    @Test("a closed queue refuses a group; closing while a group waits for room adds none of it")
    func closing() throws {
        let closed = EventQueue<Int>()
        closed.close()
        let error = #expect(throws: EventsError.self) { try closed.push(allOf: [(1, 5, 1)]) }
        #expect(error?.code == .closed)

        let queue = EventQueue<Int>(capacity: 2, whenFull: .wait)
        try queue.push(allOf: [(0, 5, 1), (1, 5, 1)])
        let done = DispatchSemaphore(value: 0)
        let code = Locked<EventsError.Code?>(nil)
        Thread {
            do {
                try queue.push(allOf: [(2, 5, 1)])
            } catch let error as EventsError {
                code.withLock { $0 = error.code }
            } catch {}
            done.signal()
        }.start()
        var waited = 0
        while queue.blockedProducers == 0 && waited < 300_000 {
            usleep(100)
            waited += 1
        }
        queue.close()
        #expect(done.wait(timeout: .now() + 300) == .success)
        #expect(code.withLock { $0 } == .closed)
        var drained: [Int] = []
        while let value = queue.pop() { drained.append(value) }
        #expect(drained == [0, 1])
    }

    @Test("a group reaches consumers that were all asleep, and none of it is lost")
    func wakesConsumers() throws {
        let queue = EventQueue<Int>()
        let received = Locked<[Int]>([])
        let finished = DispatchGroup()
        for _ in 0..<3 {
            finished.enter()
            Thread {
                var batch: [Int] = []
                while queue.pop(upTo: 1, into: &batch) {
                    received.withLock { $0 += batch }
                    batch.removeAll()
                }
                finished.leave()
            }.start()
        }
        try queue.push(allOf: (0..<30).map { ($0, 5, 1) })
        // Delivered before any close: the group itself woke the consumers (bounded wait).
        var waited = 0
        while received.withLock({ $0.count }) < 30 && waited < 300_000 {
            usleep(100)
            waited += 1
        }
        #expect(received.withLock { $0.count } == 30)
        queue.close()
        #expect(finished.wait(timeout: .now() + 300) == .success)
        #expect(received.withLock { $0.sorted() } == Array(0..<30))
    }
}
