import Foundation
@testable import SymphonyCrypto
import Synchronization
import Testing
@testable import SymphonyEvents
import SymphonyConcurrency
import SymphonyJSON

/// What handlers publish on a worker is held until the worker has handled its take, then queued
/// together (sealed in batches by priority); it counts as published at once.
@Suite(.timeLimit(.minutes(10))) struct HeldPublishesTests {
    @Test("a handler's events are counted at once, queued when its take is done, sealed by priority, and all delivered in order")
    func heldUntilTheTakeIsDone() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let recorder = Recorder()
        let seenWhileHandling = Locked<[Int]>([])
        try system.subscribe("input") { event in
            for index in 0..<3 {
                try system.publish(Event(type: "derived", payload: ["n": .int(Int64(index))], priority: 2, id: "\(event.id)-\(index)"), fromHandler: true)
            }
            // Held, not queued: the queue does not hold them yet, but they count as published.
            seenWhileHandling.withLock { $0.append(system.dispatcher.queue.count) }
        }
        try system.subscribe("derived") { recorder.record($0) }
        try system.publish(Event(type: "input", priority: 5, id: "a"))
        try system.start()
        #expect(recorder.wait(for: 3))
        system.dispatcher.waitUntilIdle()
        #expect(recorder.ids == ["a-0", "a-1", "a-2"])
        #expect(seenWhileHandling.withLock { $0 } == [0])
        #expect(system.counters.published == 4)
        #expect(system.counters.delivered == 4)
        system.stop()
    }

    @Test("the held events are queued as one batch per priority")
    func batchesByPriority() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let taken = Locked<[QueuedEvent]>([])
        try system.subscribe("input") { event in
            for (index, priority) in [3, 7, 3, 3].enumerated() {
                try system.publish(Event(type: "derived", priority: priority, id: "\(event.id)-\(index)"), fromHandler: true)
            }
        }
        // The second handler runs after the first: the held events are not queued before the take is done.
        try system.subscribe("input") { _ in taken.withLock { $0 = system.dispatcher.queue.removeAll() } }
        try system.publish(Event(type: "input", id: "a"))
        try system.start()
        system.dispatcher.waitUntilIdle()
        #expect(taken.withLock { $0.isEmpty })
        system.stop()


        // What a worker does once its take is done: one batch per priority, each in publication order.
        let dispatcher = EventDispatcher(workerCount: 1, sealer: EnvelopeSealer(key: try EncryptionKey.generate()), deadLetters: CollectingDeadLetterSink())
        let held = HeldPublishes(dispatcher: dispatcher)
        held.events = [3, 7, 3, 3].enumerated().map { Event(type: "derived", priority: $0.element, id: "b-\($0.offset)") }
        dispatcher.queueHeld(held)
        #expect(held.events.isEmpty)
        let queued = dispatcher.queue.removeAll().map { item -> [String] in
            if case .batch(let batch) = item { return batch.ids } else { return ["not a batch"] }
        }
        #expect(queued == [["b-0", "b-2", "b-3"], ["b-1"]])
    }

    @Test("held events that cannot be sealed go to the dead-letter sink as not queued, and their fired entries are completed")
    func unsealableHeldEvents() throws {
        let due = Timestamp(secondsSinceEpoch: 1_700_000_000)
        let completed = Locked<[String]>([])
        let letters = CollectingDeadLetterSink()
        // A sealer that may draw no nonce prefix: every seal fails, as when a key's nonces are used up.
        let exhausted = EnvelopeSealer(keyRing: KeyRing(active: try EncryptionKey.generate()), prefixLimit: 0)
        let dispatcher = EventDispatcher(
            workerCount: 1, sealer: exhausted, deadLetters: letters, completeFired: { fired, event in completed.withLock { $0.append("\(fired.id.rawValue) \(event.id)") } })
        let held = HeldPublishes(dispatcher: dispatcher)
        held.events = (0..<3).map { Event(type: "derived", priority: 2, id: "h-\($0)") }
        held.firedEntries = [1: FiredEntry(id: ScheduleID(rawValue: "s-h-1"), eventID: "h-1", due: due, firedAt: due)]
        dispatcher.queueHeld(held)
        #expect(held.events.isEmpty && held.firedEntries.isEmpty)
        #expect(dispatcher.queue.count == 0)
        #expect(letters.all.map(\.eventID) == ["h-0", "h-1", "h-2"])
        #expect(letters.all.allSatisfy { if case .notQueued = $0.reason { true } else { false } })
        #expect(letters.all.compactMap(\.event).map(\.id) == ["h-0", "h-1", "h-2"])
        #expect(completed.withLock { $0 } == ["s-h-1 h-1"])
    }

    @Test("a held event too deep to seal goes to the dead-letter sink alone: the rest of its group is queued as one batch, in order")
    func oneUnsealableHeldEventLeavesItsGroup() throws {
        let due = Timestamp(secondsSinceEpoch: 1_700_000_000)
        let completed = Locked<[String]>([])
        let letters = CollectingDeadLetterSink()
        let dispatcher = EventDispatcher(
            workerCount: 1, sealer: EnvelopeSealer(key: try EncryptionKey.generate()), deadLetters: letters,
            completeFired: { fired, event in completed.withLock { $0.append("\(fired.id.rawValue) \(event.id)") } })
        var tooDeep: JSONValue = 1
        for _ in 0...EventBodyCodec.maximumDepth { tooDeep = [tooDeep] }
        let held = HeldPublishes(dispatcher: dispatcher)
        held.events = (0..<4).map { Event(type: "derived", payload: $0 == 1 ? tooDeep : ["n": .int(Int64($0))], priority: 2, id: "d-\($0)") }
        held.firedEntries = [
            1: FiredEntry(id: ScheduleID(rawValue: "s-d-1"), eventID: "d-1", due: due, firedAt: due),
            2: FiredEntry(id: ScheduleID(rawValue: "s-d-2"), eventID: "d-2", due: due, firedAt: due),
        ]
        dispatcher.queueHeld(held)
        #expect(held.events.isEmpty && held.firedEntries.isEmpty)
        #expect(letters.all.map(\.eventID) == ["d-1"])
        #expect(letters.all.allSatisfy { if case .notQueued = $0.reason { true } else { false } })
        // The bad event's entry is completed (its event is in the letter); the queued one's is not yet.
        #expect(completed.withLock { $0 } == ["s-d-1 d-1"])
        #expect(dispatcher.counters.failed == 1)
        let queued = dispatcher.queue.removeAll().map { item -> String in
            switch item {
            case .batch(let batch): "batch \(batch.ids)"
            case .firedBatch(let batch, let entries): "fired \(batch.ids) \(entries.map { $0?.id.rawValue ?? "-" })"
            default: "other"
            }
        }
        #expect(queued == [#"fired ["d-0", "d-2", "d-3"] ["-", "s-d-2", "-"]"#])
    }

    @Test("in a later group with two priorities, the events left after a too-deep one keep their batches and their fired entries")
    func unsealableEventInALaterGroup() throws {
        let due = Timestamp(secondsSinceEpoch: 1_700_000_000)
        let letters = CollectingDeadLetterSink()
        let dispatcher = EventDispatcher(workerCount: 1, sealer: EnvelopeSealer(key: try EncryptionKey.generate()), deadLetters: letters)
        var tooDeep: JSONValue = 1
        for _ in 0...EventBodyCodec.maximumDepth { tooDeep = ["k": tooDeep] }
        let count = EventDispatcher.eventsPerEnvelope + 4  // the second group holds the last four
        let held = HeldPublishes(dispatcher: dispatcher)
        held.events = (0..<count).map { index in
            Event(type: "derived", payload: index == count - 3 ? tooDeep : [:], priority: index.isMultiple(of: 2) ? 4 : 6, id: "e-\(index)")
        }
        held.firedEntries = [count - 1: FiredEntry(id: ScheduleID(rawValue: "s-last"), eventID: "e-\(count - 1)", due: due, firedAt: due)]
        dispatcher.queueHeld(held)
        #expect(letters.all.map(\.eventID) == ["e-\(count - 3)"])
        let queued = dispatcher.queue.removeAll().map { item -> String in
            switch item {
            case .batch(let batch): "\(batch.ids.count) events, last \(batch.ids.last ?? "")"
            case .firedBatch(let batch, let entries): "\(batch.ids) \(entries.map { $0?.id.rawValue ?? "-" })"
            default: "other"
            }
        }
        // The first group: one batch per priority. The second, without e-(count-3) (priority 6):
        // e-(count-4) and e-(count-2) at priority 4, and e-(count-1) at priority 6 with its fired entry.
        #expect(queued.count == 4)
        #expect(queued.contains("\(EventDispatcher.eventsPerEnvelope / 2) events, last e-\(EventDispatcher.eventsPerEnvelope - 2)"))
        #expect(queued.contains("\(EventDispatcher.eventsPerEnvelope / 2) events, last e-\(EventDispatcher.eventsPerEnvelope - 1)"))
        #expect(queued.contains("2 events, last e-\(count - 2)"))
        #expect(queued.contains(#"["e-\#(count - 1)"] ["s-last"]"#))
    }

    @Test("held events that scheduled entries fired keep their entries, by position in their priority's batch")
    func firedEntriesRideInTheirBatch() throws {
        let due = Timestamp(secondsSinceEpoch: 1_700_000_000)
        func entry(_ id: String) -> FiredEntry { FiredEntry(id: ScheduleID(rawValue: "s-\(id)"), eventID: id, due: due, firedAt: due) }
        let events = [3, 7, 3, 3].enumerated().map { Event(type: "derived", priority: $0.element, id: "b-\($0.offset)") }

        let sealed = EventDispatcher(workerCount: 1, sealer: EnvelopeSealer(key: try EncryptionKey.generate()), deadLetters: CollectingDeadLetterSink())
        let held = HeldPublishes(dispatcher: sealed)
        held.events = events
        held.firedEntries = [2: entry("b-2")]
        sealed.queueHeld(held)
        #expect(held.events.isEmpty && held.firedEntries.isEmpty)
        let items = sealed.queue.removeAll().map { item -> String in
            switch item {
            case .batch(let batch): "batch \(batch.ids)"
            case .firedBatch(let batch, let entries): "fired batch \(batch.ids) \(entries.map { $0?.eventID ?? "-" })"
            default: "neither"
            }
        }
        #expect(items == [#"fired batch ["b-0", "b-2", "b-3"] ["-", "b-2", "-"]"#, #"batch ["b-1"]"#])

        // Past the first group of 64, entries still go with their own events.
        let many = (0..<70).map { Event(type: "derived", priority: 4, id: "m-\($0)") }
        held.events = many
        held.firedEntries = [1: entry("m-1"), 66: entry("m-66")]
        sealed.queueHeld(held)
        let groups = sealed.queue.removeAll().map { item -> [String] in
            guard case .firedBatch(let batch, let entries) = item else { return ["not a fired batch"] }
            return zip(batch.ids, entries).compactMap { id, entry in entry.map { "\(id)=\($0.eventID)" } }
        }
        #expect(groups == [["m-1=m-1"], ["m-66=m-66"]])

        // Without encryption each event is queued alone, a fired one with its entry.
        let plain = EventDispatcher(workerCount: 1, sealer: nil, deadLetters: CollectingDeadLetterSink())
        let plainHeld = HeldPublishes(dispatcher: plain)
        plainHeld.events = events
        plainHeld.firedEntries = [1: entry("b-1")]
        plain.queueHeld(plainHeld)
        let plainItems = plain.queue.removeAll().map { item -> String in
            switch item {
            case .plain(let event): event.id
            case .fired(.plain(let event), let fired): "\(event.id) fired by \(fired.id.rawValue)"
            default: "other"
            }
        }
        #expect(plainItems.sorted() == ["b-0", "b-1 fired by s-b-1", "b-2", "b-3"])
    }

    @Test("a handler's publish from a thread that is not a worker is queued at once")
    func otherThreadsQueueAtOnce() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        try system.publish(Event(type: "x", id: "direct"), fromHandler: true)
        #expect(system.dispatcher.queue.count == 1)
        system.stop()
    }

    @Test("events held by a handler that stops the system are still delivered")
    func heldAcrossStop() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let recorder = Recorder()
        try system.subscribe("input") { event in
            try system.publish(Event(type: "derived", id: "\(event.id)-d"), fromHandler: true)
            system.dispatcher.queue.close()  // what stop() does first; the worker drains what is left
        }
        try system.subscribe("derived") { recorder.record($0) }
        try system.publish(Event(type: "input", id: "a"))
        try system.start()
        system.stop()
        #expect(recorder.ids == ["a-d"])
        #expect(system.counters.published == system.counters.delivered)
    }
}
