import Foundation
import Logging
import SymphonyCrypto
import Synchronization
import Testing
@testable import SymphonyEvents
import SymphonyConcurrency

@Suite(.timeLimit(.minutes(12))) struct EventSystemTests {
    @Test("test_event_throughput: many events, none lost, none duplicated", arguments: [true, false])
    func eventThroughput(encrypted: Bool) throws {
        var configuration = EventSystemConfiguration.testing(workers: 2)
        if !encrypted { configuration.encryption = .disabled }
        let system = try EventSystem(configuration: configuration)
        let recorder = Recorder()
        try system.subscribe("load.*") { recorder.record($0) }
        try system.start()
        let total = 20_000
        for index in 0..<total {
            try system.publish(Event(type: "load.test", payload: ["n": .int(Int64(index))], id: "ev-\(index)"), priority: index % 10)
        }
        system.stop()
        let ids = recorder.ids
        #expect(ids.count == total)
        #expect(Set(ids).count == total)
        #expect(Set(ids) == Set((0..<total).map { "ev-\($0)" }))
        #expect(system.counters == EventCounters(published: total, delivered: total, failed: 0, unmatched: 0, queueDepth: 0))
    }

    @Test("a handler that publishes more events than the queue holds neither deadlocks nor loses any, even while stopping")
    func handlerPublishesPastCapacity() throws {
        var configuration = EventSystemConfiguration.testing(workers: 1)
        configuration.queueCapacity = 1
        let system = try EventSystem(configuration: configuration)
        let recorder = Recorder()
        try system.subscribe("fan.out") { _ in
            for index in 0..<20 { _ = try system.publish(Event(type: "fan.in", payload: ["n": .int(Int64(index))]), fromHandler: true) }
        }
        try system.subscribe("fan.in") { recorder.record($0) }
        try system.start()
        try system.publish(Event(type: "fan.out"))
        system.stop()
        #expect(recorder.ids.count == 20)
        #expect(system.counters.delivered == 21)
    }

    @Test("test_concurrent_publishers: 10 publishers, every event exactly once, each publisher's events in order with one worker")
    func concurrentPublishers() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let recorder = Recorder()
        try system.subscribe("pub.*") { recorder.record($0) }
        try system.start()
        let perPublisher = 2_000
        onThreads(10) { publisher in
            for index in 0..<perPublisher {
                _ = try? system.publish(
                    Event(type: "pub.event", payload: ["publisher": .int(Int64(publisher)), "index": .int(Int64(index))]), priority: 4)
            }
        }
        system.stop()
        let events = recorder.all
        #expect(events.count == 10 * perPublisher)
        #expect(Set(events.map(\.id)).count == events.count)
        for publisher in 0..<10 {
            let indices = events.filter { $0.payload["publisher"] == .int(Int64(publisher)) }.compactMap { $0.payload["index"] }
            #expect(indices == (0..<perPublisher).map { .int(Int64($0)) })
        }
    }

    @Test("with one worker, queued events are delivered by priority, then in publish order")
    func priorityDelivery() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let recorder = Recorder()
        try system.subscribe("**") { recorder.record($0) }
        for (name, priority) in [("low", 9), ("mid-1", 5), ("urgent", 0), ("mid-2", 5), ("high", 1)] {
            try system.publish(Event(type: "job.\(name)"), priority: priority)
        }
        try system.start()
        system.stop()
        #expect(recorder.all.map(\.type) == ["job.urgent", "job.high", "job.mid-1", "job.mid-2", "job.low"])
    }

    @Test("a throwing handler sends the event and error to the dead-letter sink; other handlers and events carry on")
    func handlerErrors() throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        var configuration = EventSystemConfiguration.testing(workers: 2)
        let sink = CollectingDeadLetterSink()
        configuration.deadLetters = sink
        let system = try EventSystem(configuration: configuration)
        let recorder = Recorder()
        try system.subscribe("order.*") { event in
            if event.payload["bad"] == true { throw Boom() }
        }
        try system.subscribe("order.*") { recorder.record($0) }
        try system.start()
        for index in 0..<100 {
            try system.publish(Event(type: "order.placed", payload: ["bad": .bool(index % 10 == 0)], id: "o-\(index)"))
        }
        system.stop()
        #expect(recorder.all.count == 100)
        let letters = sink.all
        #expect(Set(letters.map(\.eventID)) == Set(stride(from: 0, to: 100, by: 10).map { "o-\($0)" }))
        for letter in letters {
            #expect(letter.event?.payload["bad"] == true)
            guard case .handlerFailed(let pattern, let error) = letter.reason else {
                Issue.record("expected a handler failure")
                continue
            }
            #expect(pattern == "order.*")
            #expect("\(error)" == "boom")
        }
        #expect(system.counters.failed == 10)
        #expect(system.counters.delivered == 90)
    }

    @Test("a tampered envelope goes to the dead-letter sink and the other events are delivered")
    func tamperedEnvelope() throws {
        let (system, key, sink, recorder) = try keyedSystem()

        let sealer = EnvelopeSealer(key: key)
        var flipped = try SealedEvent(sealing: Event(type: "a.b", id: "flipped"), with: sealer)
        flipped.envelope[flipped.envelope.count - 3] ^= 0x40
        var moved = try SealedEvent(sealing: Event(type: "a.b", id: "moved"), with: sealer)
        moved.priority = 0  // the priority is associated data: changing it breaks the tag
        let foreign = try SealedEvent(sealing: Event(type: "a.b", id: "foreign"), with: EnvelopeSealer(key: try EncryptionKey.generate()))

        try system.publish(Event(type: "a.b", id: "good-1"))
        for sealed in [flipped, moved, foreign] { try system.dispatcher.publish(sealed) }
        try system.publish(Event(type: "a.b", id: "good-2"))
        try system.start()
        system.stop()

        #expect(Set(recorder.ids) == ["good-1", "good-2"])
        #expect(Set(sink.all.map(\.eventID)) == ["flipped", "moved", "foreign"])
        for letter in sink.all {
            #expect(letter.event == nil)
            guard case .undeliverable(let error as CryptoError) = letter.reason else {
                Issue.record("expected a crypto failure")
                continue
            }
            #expect(error.code == (letter.eventID == "foreign" ? .unknownKey : .authenticationFailed))
        }
        #expect(system.counters.failed == 3)
    }

    @Test("with encryption on the queue holds envelopes, never plaintext")
    func queueHoldsEnvelopes() throws {
        let system = try EventSystem(configuration: .testing())
        try system.publish(Event(type: "secret.note", payload: ["text": "the launch code is 0000-SWORDFISH"]))
        let queued = system.dispatcher.queue.removeAll()
        #expect(queued.count == 1)
        guard case .sealed(let sealed) = queued[0] else {
            Issue.record("expected a sealed event in the queue")
            return
        }
        #expect(!String(decoding: sealed.envelope, as: UTF8.self).contains("SWORDFISH"))
    }

    @Test("turning encryption off logs one loud warning")
    func disabledEncryptionWarns() throws {
        let storage = CapturingLogHandler.Storage()
        var configuration = EventSystemConfiguration.testing()
        configuration.encryption = .disabled
        configuration.logger = Logger(label: "test") { _ in CapturingLogHandler(storage: storage) }
        let system = try EventSystem(configuration: configuration)
        try system.publish(Event(type: "a.b"))
        try system.publish(Event(type: "a.b"))
        let messages = storage.messages.withLock { $0 }
        #expect(messages.count == 1)
        #expect(messages.first?.0 == .warning)
        #expect(messages.first?.1.hasPrefix("ENCRYPTION IS OFF") == true)
        guard case .plain = system.dispatcher.queue.removeAll().first else {
            Issue.record("expected a plaintext event")
            return
        }
    }

    @Test("publishing rejects bad priorities and types with clear errors")
    func publishValidation() throws {
        let system = try EventSystem(configuration: .testing())
        let priority = #expect(throws: EventsError.self) { try system.publish(Event(type: "a.b"), priority: 10) }
        #expect(priority?.message == "Priority 10 is outside 0…9.")
        let type = #expect(throws: EventsError.self) { try system.publish(Event(type: "a..b")) }
        #expect(type?.message == "Invalid event type 'a..b': it has an empty segment.")
        #expect(throws: EventsError.self) { try system.subscribe("a.b*") { _ in } }
        #expect(system.counters.published == 0)
    }

    @Test("a cancelled subscription stops receiving events")
    func cancelSubscription() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let kept = Recorder()
        let cancelled = Recorder()
        try system.subscribe("x.*") { kept.record($0) }
        let subscription = try system.subscribe("x.*") { cancelled.record($0) }
        try system.start()
        try system.publish(Event(type: "x.one"))
        #expect(kept.wait(for: 1))
        #expect(cancelled.wait(for: 1))
        subscription.cancel()
        try system.publish(Event(type: "x.two"))
        system.stop()
        #expect(kept.all.map(\.type) == ["x.one", "x.two"])
        #expect(cancelled.all.map(\.type) == ["x.one"])
    }

    @Test("events no handler matches are counted as unmatched")
    func unmatched() throws {
        let system = try EventSystem(configuration: .testing())
        try system.subscribe("a.*") { _ in }
        try system.start()
        try system.publish(Event(type: "a.b"))
        try system.publish(Event(type: "z.z"))
        system.stop()
        #expect(system.counters.unmatched == 1)
        #expect(system.counters.delivered == 2)
    }

    @Test("stop while publishers are still publishing: every accepted event is delivered, later ones are refused")
    func stopDuringPublishing() throws {
        let system = try EventSystem(configuration: .testing(workers: 2))
        let recorder = Recorder()
        try system.subscribe("**") { recorder.record($0) }
        try system.start()
        let accepted = Atomic<Int>(0)
        let refusals = Locked<[EventsError.Code]>([])
        let running = DispatchGroup()
        for publisher in 0..<4 {
            running.enter()
            Thread {
                var index = 0
                while true {
                    do {
                        try system.publish(Event(type: "p.e", id: "p\(publisher)-\(index)"))
                        accepted.add(1, ordering: .relaxed)
                        index += 1
                    } catch let error as EventsError {
                        refusals.withLock { $0.append(error.code) }
                        break
                    } catch {
                        break
                    }
                }
                running.leave()
            }.start()
        }
        #expect(recorder.wait(for: 2_000))
        system.stop()
        running.wait()
        #expect(refusals.withLock { $0 } == [.closed, .closed, .closed, .closed])
        #expect(recorder.all.count == accepted.load(ordering: .relaxed))
        #expect(Set(recorder.ids).count == recorder.all.count)
    }

    @Test("stopNow finishes in-flight events and hands back the queued rest, so none is lost")
    func stopNowReturnsUndelivered() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let recorder = Recorder()
        let entered = Gate()
        let release = Gate()
        try system.subscribe("**") { event in
            if event.id == "first" {
                entered.open()
                release.wait()
            }
            recorder.record(event)
        }
        try system.start()
        try system.publish(Event(type: "w.e", id: "first"))
        entered.wait()
        for index in 0..<100 { try system.publish(Event(type: "w.e", id: "rest-\(index)")) }
        let handedBack = Locked<[Event]>([])
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            handedBack.withLock { $0 = system.stopNow() }
            stopped.signal()
        }.start()
        // stopNow closes the queue and takes its contents before it waits for the worker.
        while system.counters.queueDepth > 0 || !system.dispatcher.queue.isClosed { usleep(1_000) }
        release.open()
        #expect(stopped.wait(timeout: .now() + 300) == .success)
        let delivered = recorder.ids
        let returned = handedBack.withLock { $0.map(\.id) }
        #expect(delivered == ["first"])
        #expect(returned == (0..<100).map { "rest-\($0)" })
        #expect(throws: EventsError.self) { try system.publish(Event(type: "w.e")) }
    }
}

/// Starting with more overdue stored entries than the queue holds.
@Suite(.timeLimit(.minutes(12))) struct OverdueAtStartTests {
    @Test("more overdue entries than the queue holds: start returns and every entry is delivered, in due order")
    func overdueBeyondCapacity() throws {
        let clock = ManualClock()
        let store = InMemoryScheduledEntryStore()
        let total = 50
        for index in 0..<total {
            let due = clock.now().advanced(by: .seconds(Int64(index - 100)))  // all in the past, e-0 the oldest
            try store.save(ScheduledEntry(id: ScheduleID(rawValue: "s-\(index)"), event: Event(type: "overdue.tick", id: "e-\(index)"), due: due))
        }
        var configuration = EventSystemConfiguration.testing(workers: 1, clock: clock)
        configuration.queueCapacity = 4
        configuration.scheduleStore = store
        let system = try EventSystem(configuration: configuration)
        let recorder = Recorder()
        try system.subscribe("overdue.*") { recorder.record($0) }

        // `start()` publishes the overdue entries before it returns. It used to do so before any
        // worker existed, waiting forever for room in the full queue; the wait below only bounds that.
        let started = DispatchSemaphore(value: 0)
        let startError = Locked<String?>(nil)
        Thread {
            do { try system.start() } catch { startError.withLock { $0 = "\(error)" } }
            started.signal()
        }.start()
        let returned = started.wait(timeout: .now() + 120) == .success
        #expect(returned, "start() did not return: the overdue entries were published into a queue no worker drains")
        guard returned else { return }  // stop() would wait for the stuck start
        #expect(startError.withLock { $0 } == nil)
        system.stop()

        #expect(recorder.ids == (0..<total).map { "e-\($0)" })
        #expect(system.scheduler.firedCount == total)
        #expect(system.scheduler.pendingCount == 0)
        #expect(try store.loadPending().isEmpty)
        #expect(system.counters == EventCounters(published: total, delivered: total, failed: 0, unmatched: 0, queueDepth: 0))
    }

    @Test("a delayed event is sealed once, when it is scheduled: the entry keeps that envelope and the queue takes it as is when it fires")
    func delayedEventSealedOnce() throws {
        let key = try EncryptionKey.generate()
        var configuration = EventSystemConfiguration()
        configuration.workerCount = 1
        configuration.encryption = .keyRing(KeyRing(active: key))
        let clock = ManualClock()
        configuration.clock = clock
        let system = try EventSystem(configuration: configuration)
        let handed = Locked<[SealedEvent?]>([])
        try system.subscribe("later", completingFiredEntries: { _, fired in handed.withLock { $0.append(fired?.sealed) } })
        try system.start()
        let (id, sealed) = try system.scheduleSealed(Event(type: "later", payload: ["n": 1], id: "l-1"), at: clock.now().advanced(by: .seconds(5)))
        let envelope = try #require(sealed)
        #expect(system.scheduler.pending.first { $0.id == id }?.sealed == envelope)
        clock.advance(by: .seconds(5))
        system.stop()
        #expect(handed.withLock { $0 } == [envelope])  // handed over with the queued event, not sealed again

        // The queue takes a fired event's envelope as is when it is under its active key, else seals the event itself.
        let dispatcher = EventDispatcher(workerCount: 1, sealer: EnvelopeSealer(key: key), deadLetters: CollectingDeadLetterSink())
        let event = Event(type: "later", payload: ["n": 2], id: "l-2")
        let own = try SealedEvent(sealing: event, with: EnvelopeSealer(key: key))
        let fired = FiredEntry(id: ScheduleID(rawValue: "s-1"), eventID: "l-2", due: clock.now(), firedAt: clock.now(), sealed: own)
        #expect(try dispatcher.publish(fired: event, sealed: own, entry: fired) == own)
        let other = try SealedEvent(sealing: event, with: EnvelopeSealer(key: try EncryptionKey.generate()))
        let resealed = try #require(try dispatcher.publish(fired: event, sealed: other, entry: nil))
        #expect(resealed != other && EnvelopeFormat.keyID(of: resealed.envelope) == key.id)
        let queued = dispatcher.queue.removeAll()
        guard queued.count == 2, case .fired(.sealed(let first), let entry) = queued[0], case .sealed(let second) = queued[1] else {
            Issue.record("unexpected queue: \(queued)")
            return
        }
        #expect(first == own && entry == fired && second == resealed)
    }

    @Test("a scheduler starts only the way it was made: with its closure, or through a started dispatcher's handle")
    func wrongStart() throws {
        let dispatcher = EventDispatcher(workerCount: 1, sealer: nil, deadLetters: CollectingDeadLetterSink())
        let recorder = Recorder()
        _ = dispatcher.registry.add(try TypePattern("**")) { recorder.record($0) }
        let running = try dispatcher.start()

        let withClosure = Scheduler(clock: ManualClock()) { _ in }
        let closureError = #expect(throws: EventsError.self) { try withClosure.start(publishingThrough: running) }
        #expect(closureError?.code == .wrongStart)
        #expect(closureError?.message == "This scheduler publishes through its own closure; start it with start().")

        let clock = ManualClock()
        let intoDispatcher = Scheduler(clock: clock)
        let dispatcherError = #expect(throws: EventsError.self) { try intoDispatcher.start() }
        #expect(dispatcherError?.code == .wrongStart)
        #expect(
            dispatcherError?.message
                == "This scheduler publishes into a dispatcher; start it with start(publishingThrough:) and the handle the started dispatcher returned.")
        try intoDispatcher.schedule(Event(type: "later.tick", id: "t-1"), after: .seconds(5))
        clock.advance(by: .seconds(5))  // not started: nothing fires
        #expect(intoDispatcher.firedCount == 0)

        try intoDispatcher.start(publishingThrough: running)
        #expect(intoDispatcher.firedCount == 1)  // the overdue entry, published before start returned
        let again = #expect(throws: EventsError.self) { try intoDispatcher.start(publishingThrough: running) }
        #expect(again?.code == .alreadyStarted)
        intoDispatcher.stop()
        dispatcher.stop()
        #expect(recorder.ids == ["t-1"])
    }
}

@Suite struct StopWithoutStartTests {
    @Test("stop on a system that was never started still delivers what was queued")
    func stopWithoutStart() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let recorder = Recorder()
        try system.subscribe("**") { recorder.record($0) }
        try system.publish(Event(type: "queued.early", id: "q1"))
        system.stop()
        #expect(recorder.ids == ["q1"])
        system.stop()  // a second stop is harmless
    }

    @Test("a handler may call stop: the queue closes, the remaining events drain, and nothing deadlocks")
    func stopFromHandler() throws {
        let system = try EventSystem(configuration: .testing(workers: 2))
        let recorder = Recorder()
        try system.subscribe("**") { event in
            recorder.record(event)
            if event.id == "stop" { system.stop() }
        }
        for index in 0..<50 { try system.publish(Event(type: "a.b", id: "e\(index)"), priority: 5) }
        try system.publish(Event(type: "a.b", id: "stop"), priority: 0)
        try system.start()
        #expect(recorder.wait(for: 51))
        system.stop()
        #expect(Set(recorder.ids).count == 51)
        #expect(throws: EventsError.self) { try system.publish(Event(type: "a.b")) }
    }

    @Test("an already-sealed event with an invalid type is refused")
    func sealedValidation() throws {
        let system = try EventSystem(configuration: .testing())
        let error = #expect(throws: EventsError.self) {
            try system.dispatcher.publish(SealedEvent(id: "x", type: "no such", priority: 1, envelope: []))
        }
        #expect(error?.code == .invalidType)
    }

    @Test("an id or source holding a control character is refused on every way into the queue, naming the field")
    func controlCharactersInIDAndSource() throws {
        let system = try EventSystem(configuration: .testing())
        for id in ["cut\u{0}here", "line\nbreak", "tab\there", "\u{1F}", "del\u{7F}"] {
            let error = #expect(throws: EventsError.self) { try system.publish(Event(type: "a.b", id: id)) }
            #expect(error?.code == .invalidID)
            #expect(error?.message == "'id' must not contain control characters (U+0000–U+001F, U+007F).")
        }
        let source = #expect(throws: EventsError.self) { try system.publish(Event(type: "a.b", source: "user:ada\u{1B}[2J")) }
        #expect(source?.code == .invalidSource)
        #expect(source?.message == "'source' must not contain control characters (U+0000–U+001F, U+007F).")
        let batch = #expect(throws: EventsError.self) {
            try system.publish(contentsOf: [Event(type: "a.b", id: "fine"), Event(type: "a.b", id: "x\u{0}")])
        }
        #expect(batch?.code == .invalidID)
        let sealed = #expect(throws: EventsError.self) {
            try system.dispatcher.publish(SealedEvent(id: "x\u{0}", type: "a.b", priority: 1, envelope: []))
        }
        #expect(sealed?.code == .invalidID)
        let scheduled = #expect(throws: EventsError.self) { try system.scheduler.schedule(Event(type: "a.b", id: "x\ry"), after: .seconds(60)) }
        #expect(scheduled?.code == .invalidID)
        #expect(system.scheduler.pendingCount == 0)
        #expect(system.counters.published == 0)
        // Other characters, U+0080 and beyond included, are fine.
        try system.publish(Event(type: "a.b", id: "ünïcode 🎉 \u{80}", source: "user:ada lovelace"))
        #expect(system.counters.published == 1)
    }
}

/// A handler's delay that is already due goes into the queue from the handler's own thread.
@Suite(.timeLimit(.minutes(12))) struct DueDelayFromHandlerTests {
    /// A clock whose timer never fires anything: only a worker can queue a due entry.
    final class TimerlessClock: SchedulerClock {
        let fixed = Timestamp(secondsSinceEpoch: 1_700_000_000)
        func now() -> Timestamp { fixed }
        func sleepInterval(until deadline: Timestamp) -> Duration? { nil }
        func onAdvance(_ callback: @escaping @Sendable () -> Void) {}
    }

    @Test("a due delay scheduled by a handler is queued from the handler's thread (fired, never pending); one not yet due stays pending")
    func dueDelayQueuedAtOnce() throws {
        let clock = TimerlessClock()
        let system = try EventSystem(configuration: .testing(workers: 1, clock: clock))
        let recorder = Recorder()
        let pending = Locked<[Int]>([])
        try system.subscribe("a") { event in
            _ = try system.scheduleSealed(Event(type: "b.due", id: "due-\(event.id)"), at: clock.now(), fromHandler: true)
            _ = try system.scheduleSealed(Event(type: "b.later", id: "later-\(event.id)"), at: clock.now().advanced(by: .seconds(60)), fromHandler: true)
            _ = try system.scheduleSealed(Event(type: "b.timer", id: "timer-\(event.id)"), at: clock.now())  // not from a handler: the timer's
            pending.withLock { $0.append(system.scheduler.pendingCount) }
        }
        try system.subscribe("b.*") { recorder.record($0) }
        try system.start()
        try system.publish(Event(type: "a", id: "x"))
        system.dispatcher.waitUntilIdle()
        #expect(recorder.ids == ["due-x"])
        #expect(pending.withLock { $0 } == [2])
        #expect(system.scheduler.firedCount == 1)
        system.stop()
    }

    @Test(
        "with a store that keeps no envelopes, a handler's due delay is sealed in the batch of the handler's other events, and its entry completes once handled",
        arguments: [true, false])
    func dueDelaySealedWithTheHandlersEvents(encrypted: Bool) throws {
        let clock = TimerlessClock()
        var configuration = EventSystemConfiguration.testing(workers: 1, clock: clock)
        if !encrypted { configuration.encryption = .disabled }
        let store = InMemoryScheduledEntryStore()
        configuration.scheduleStore = store
        let system = try EventSystem(configuration: configuration)
        let recorder = Recorder()
        let ownEnvelopes = Locked<[Bool]>([])
        try system.subscribe("a") { event in
            try system.publish(Event(type: "b.before", priority: 4, id: "before-\(event.id)"), fromHandler: true)
            let due = try system.scheduleSealed(Event(type: "b.due", priority: 4, id: "due-\(event.id)"), at: clock.now(), fromHandler: true)
            try system.publish(Event(type: "b.after", priority: 4, id: "after-\(event.id)"), fromHandler: true)
            let later = try system.scheduleSealed(Event(type: "b.later", id: "later-\(event.id)"), at: clock.now().advanced(by: .seconds(60)))
            ownEnvelopes.withLock { $0 = [due.sealed != nil, later.sealed != nil] }
        }
        try system.subscribe("b.*") { recorder.record($0) }
        try system.start()
        try system.publish(Event(type: "a", id: "x"))
        system.dispatcher.waitUntilIdle()
        // In publication order, one batch: the delay between the handler's two publishes.
        #expect(recorder.ids == ["before-x", "due-x", "after-x"])
        // Only a delay not made by a handler is sealed alone (when encryption is on).
        #expect(ownEnvelopes.withLock { $0 } == [false, encrypted])
        #expect(system.scheduler.firedCount == 1)
        // The fired entry was completed: only the later one is still in the store.
        #expect(try store.loadPending().map(\.event.id) == ["later-x"])
        system.stop()
    }
}
