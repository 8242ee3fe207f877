import Foundation
import Synchronization
import Testing
@testable import SymphonyEvents
import SymphonyConcurrency

/// `push(contentsOf:)`: one lock and one wake-up for many elements, with the single push's rules.
@Suite struct EventQueueBatchTests {
    @Test("a batch keeps priority order, and arrival order among equal priorities, across batches and single pushes")
    func order() throws {
        let queue = EventQueue<String>()
        #expect(try queue.push(contentsOf: [("a5", 5), ("b0", 0), ("c5", 5)]) == 3)
        try queue.push("d0", priority: 0)
        #expect(try queue.push(contentsOf: [("e5", 5), ("f0", 0)]) == 2)
        #expect(try queue.push(contentsOf: []) == 0)
        queue.close()
        var popped: [String] = []
        while let name = queue.pop() { popped.append(name) }
        #expect(popped == ["b0", "d0", "f0", "a5", "c5", "e5"])
    }

    @Test("with the wait policy a batch larger than the room waits for consumers and loses nothing")
    func waitsForRoom() throws {
        let queue = EventQueue<Int>(capacity: 3, whenFull: .wait)
        let done = DispatchSemaphore(value: 0)
        let added = Atomic<Int>(0)
        Thread {
            added.store((try? queue.push(contentsOf: (0..<20).map { ($0, 5) })) ?? -1, ordering: .relaxed)
            done.signal()
        }.start()
        var received: [Int] = []
        while received.count < 20, let value = queue.pop() {
            #expect(queue.count <= 3)
            received.append(value)
        }
        #expect(done.wait(timeout: .now() + 300) == .success)
        #expect(added.load(ordering: .relaxed) == 20)
        #expect(received == Array(0..<20))
    }

    @Test("with the fail policy the elements that fit are added and counted; 'full' only when none fit")
    func failPolicy() throws {
        let queue = EventQueue<Int>(capacity: 3, whenFull: .fail)
        #expect(try queue.push(contentsOf: [(1, 5), (2, 5)]) == 2)
        #expect(try queue.push(contentsOf: [(3, 5), (4, 5), (5, 5)]) == 1)
        let error = #expect(throws: EventsError.self) { try queue.push(contentsOf: [(6, 5)]) }
        #expect(error?.code == .full)
        #expect(queue.count == 3)
    }

    @Test("a closed queue refuses a batch; closing while a batch waits for room returns what was added")
    func closing() throws {
        let closed = EventQueue<Int>()
        closed.close()
        let error = #expect(throws: EventsError.self) { try closed.push(contentsOf: [(1, 5)]) }
        #expect(error?.code == .closed)

        let queue = EventQueue<Int>(capacity: 2, whenFull: .wait)
        let done = DispatchSemaphore(value: 0)
        let added = Atomic<Int>(-1)
        Thread {
            added.store((try? queue.push(contentsOf: (0..<5).map { ($0, 5) })) ?? -2, ordering: .relaxed)
            done.signal()
        }.start()
        // Wait (bounded) until the producer has filled the queue and is waiting for room, then close.
        var waited = 0
        while queue.count < 2 && waited < 300_000 {
            usleep(100)
            waited += 1
        }
        queue.close()
        #expect(done.wait(timeout: .now() + 300) == .success)
        #expect(added.load(ordering: .relaxed) == 2)
        var drained: [Int] = []
        while let value = queue.pop() { drained.append(value) }
        #expect(drained == [0, 1])
    }

    @Test("a batch reaches consumers that were all asleep, and none of it is lost")
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
        #expect(try queue.push(contentsOf: (0..<30).map { ($0, 5) }) == 30)
        // Delivered before any close: the batch itself woke the consumers (bounded wait).
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
