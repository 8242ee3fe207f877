import Foundation
import Synchronization
import Testing
@testable import SymphonyEvents
import SymphonyConcurrency

@Suite(.timeLimit(.minutes(12))) struct SchedulerTests {
    /// A scheduler whose published events land in an array, on a manual clock.
    final class Harness: Sendable {
        let clock = ManualClock()
        let store = InMemoryScheduledEntryStore()
        let recorder = Recorder()
        let scheduler: Scheduler

        init() {
            let recorder = self.recorder
            scheduler = Scheduler(clock: clock, store: store) { recorder.record($0) }
        }

        var types: [String] { recorder.all.map(\.type) }
    }

    @Test("test_scheduled_events: never before due, and due entries fire on a manual clock")
    func scheduledEvents() throws {
        let harness = Harness()
        try harness.scheduler.start()
        defer { harness.scheduler.stop() }
        try harness.scheduler.schedule(Event(type: "follow.up"), after: .seconds(24 * 3600))
        try harness.scheduler.schedule(Event(type: "reminder"), after: .seconds(60))

        harness.clock.advance(by: .seconds(60) - .nanoseconds(1))
        #expect(harness.types == [])
        harness.clock.advance(by: .nanoseconds(1))
        #expect(harness.types == ["reminder"])
        harness.clock.advance(by: .seconds(24 * 3600 - 61))
        #expect(harness.types == ["reminder"])
        harness.clock.advance(by: .seconds(1))
        #expect(harness.types == ["reminder", "follow.up"])
        #expect(harness.scheduler.pendingCount == 0)
        #expect(try harness.store.loadPending().isEmpty)
    }

    @Test("entries due at the same moment fire in the order they were scheduled; earlier due times first")
    func dueOrder() throws {
        let harness = Harness()
        try harness.scheduler.start()
        defer { harness.scheduler.stop() }
        let start = harness.clock.now()
        try harness.scheduler.schedule(Event(type: "b"), at: start + .seconds(10))
        try harness.scheduler.schedule(Event(type: "c"), at: start + .seconds(10))
        try harness.scheduler.schedule(Event(type: "a"), at: start + .seconds(5))
        harness.clock.advance(by: .seconds(30))
        #expect(harness.types == ["a", "b", "c"])
    }

    @Test("an entry scheduled at a time already past fires on the next tick")
    func pastDue() throws {
        let harness = Harness()
        try harness.scheduler.start()
        defer { harness.scheduler.stop() }
        try harness.scheduler.schedule(Event(type: "late"), at: harness.clock.now().advanced(by: .seconds(-5)))
        harness.clock.advance(by: .zero)
        #expect(harness.types == ["late"])
    }

    @Test("periodic entries fire every period with fresh ids and catch up once after a long gap")
    func periodic() throws {
        let harness = Harness()
        try harness.scheduler.start()
        defer { harness.scheduler.stop() }
        let start = harness.clock.now()
        let id = try harness.scheduler.schedule(Event(type: "tick", id: "template"), every: .seconds(10))
        harness.clock.advance(by: .seconds(10))
        harness.clock.advance(by: .seconds(10))
        #expect(harness.types == ["tick", "tick"])
        harness.clock.advance(by: .seconds(35))  // now start+55: one catch-up firing, next due at start+60
        #expect(harness.types.count == 3)
        #expect(harness.scheduler.pending.first?.due == start + .seconds(60))
        let ids = harness.recorder.ids
        #expect(Set(ids).count == 3)
        #expect(!ids.contains("template"))
        #expect(try harness.scheduler.cancel(id))
        harness.clock.advance(by: .seconds(100))
        #expect(harness.types.count == 3)
        #expect(throws: EventsError.self) { try harness.scheduler.schedule(Event(type: "tick"), every: .zero) }
    }

    @Test("a cancelled entry never fires and leaves the store")
    func cancel() throws {
        let harness = Harness()
        try harness.scheduler.start()
        defer { harness.scheduler.stop() }
        let id = try harness.scheduler.schedule(Event(type: "never"), after: .seconds(1))
        #expect(try harness.store.loadPending().map(\.id) == [id])
        #expect(try harness.scheduler.cancel(id))
        #expect(try !harness.scheduler.cancel(id))
        harness.clock.advance(by: .seconds(2))
        #expect(harness.types == [])
        #expect(try harness.store.loadPending().isEmpty)
    }

    @Test("pending entries in the store are loaded on start and those already due fire")
    func restoresFromStore() throws {
        let clock = ManualClock()
        let store = InMemoryScheduledEntryStore()
        try store.save(ScheduledEntry(id: ScheduleID(rawValue: "old"), event: Event(type: "overdue"), due: clock.now() + .seconds(-60)))
        try store.save(ScheduledEntry(id: ScheduleID(rawValue: "new"), event: Event(type: "later"), due: clock.now() + .seconds(60)))
        let recorder = Recorder()
        let scheduler = Scheduler(clock: clock, store: store) { recorder.record($0) }
        try scheduler.start()
        defer { scheduler.stop() }
        clock.advance(by: .zero)
        #expect(recorder.all.map(\.type) == ["overdue"])
        #expect(try store.loadPending().map(\.id.rawValue) == ["new"])
        clock.advance(by: .seconds(60))
        #expect(recorder.all.map(\.type) == ["overdue", "later"])
    }

    @Test("an entry whose publish fails stays pending in the store")
    func failedPublishStaysPending() throws {
        struct Closed: Error {}
        let clock = ManualClock()
        let store = InMemoryScheduledEntryStore()
        let scheduler = Scheduler(clock: clock, store: store) { _ in throw Closed() }
        try scheduler.start()
        defer { scheduler.stop() }
        try scheduler.schedule(Event(type: "kept"), after: .seconds(1))
        clock.advance(by: .seconds(1))
        #expect(try store.loadPending().map(\.event.type) == ["kept"])
        #expect(scheduler.firedCount == 0)
    }

    @Test("on the real clock, a scheduled event is never delivered before it is due", .tags(.realClock))
    func realClock() throws {
        var configuration = EventSystemConfiguration.testing(workers: 1, clock: SystemClock())
        configuration.clock = SystemClock()
        let system = try EventSystem(configuration: configuration)
        let arrivals = Locked<[(String, Timestamp)]>([])
        let recorder = Recorder()
        try system.subscribe("timer.*") { event in
            arrivals.withLock { $0.append((event.type, Timestamp.now())) }
            recorder.record(event)
        }
        try system.start()
        // Each event against the moment it was scheduled (which of the two arrives first depends on
        // how long the machine took between the two calls, so that is not asserted).
        let slowScheduled = Timestamp.now()
        try system.schedule(Event(type: "timer.slow"), after: .milliseconds(40))
        let fastScheduled = Timestamp.now()
        try system.schedule(Event(type: "timer.fast"), after: .milliseconds(10))
        #expect(recorder.wait(for: 2))
        system.stop()
        let seen = Dictionary(arrivals.withLock { $0 }, uniquingKeysWith: { first, _ in first })
        #expect(Set(seen.keys) == ["timer.fast", "timer.slow"])
        #expect(try #require(seen["timer.fast"]) >= fastScheduled + .milliseconds(10))
        #expect(try #require(seen["timer.slow"]) >= slowScheduled + .milliseconds(40))
    }
}

@Suite struct TimestampTests {
    @Test("timestamps print as RFC 3339 in UTC with nanoseconds")
    func description() {
        #expect(Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_001).description == "2023-11-14T22:13:20.000000001Z")
        #expect(Timestamp(nanosecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999999999Z")
        #expect(Timestamp(nanosecondsSinceEpoch: .min).description == "1677-09-21T00:12:43.145224192Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000000000Z")
        #expect(Timestamp(nanosecondsSinceEpoch: .max).description == "2262-04-11T23:47:16.854775807Z")
        #expect(Timestamp(secondsSinceEpoch: 951_782_400).description == "2000-02-29T00:00:00.000000000Z")
        // Every printed time parses back to itself.
        for nanoseconds: Int64 in [0, 1, 999_999_999, 1_700_000_000_123_456_789, -86_400_000_000_001] {
            #expect(TimestampParser.parse(Timestamp(nanosecondsSinceEpoch: nanoseconds).description) == Timestamp(nanosecondsSinceEpoch: nanoseconds))
        }
    }

    @Test("arithmetic saturates instead of wrapping into the past")
    func saturation() {
        let now = Timestamp(secondsSinceEpoch: 1_700_000_000)
        #expect(now.advanced(by: .seconds(Int64.max)) == Timestamp(nanosecondsSinceEpoch: .max))
        #expect(Timestamp(nanosecondsSinceEpoch: .min + 5).advanced(by: .seconds(-1)) == Timestamp(nanosecondsSinceEpoch: .min))
        #expect(Timestamp(nanosecondsSinceEpoch: .min).duration(to: Timestamp(nanosecondsSinceEpoch: .max)) == .nanoseconds(Int64.max))
    }

    @Test("a delay past the representable range never fires early")
    func hugeDelay() throws {
        let clock = ManualClock()
        let recorder = Recorder()
        let scheduler = Scheduler(clock: clock) { recorder.record($0) }
        try scheduler.start()
        defer { scheduler.stop() }
        try scheduler.schedule(Event(type: "far.future"), after: .seconds(Int64.max))
        try scheduler.schedule(Event(type: "far.periodic"), every: .seconds(Int64.max / 4))
        clock.advance(by: .seconds(1_000_000))
        #expect(recorder.all.isEmpty)
    }
}

extension Tag {
    @Tag static var realClock: Self
}

/// A one-shot entry is completed in the store only once its event was handled.
@Suite struct SchedulerStoreOrderTests {
    final class OrderStore: ScheduledEntryStore, @unchecked Sendable {
        // @unchecked Sendable: `calls` is a Locked.
        let calls = Locked<[String]>([])
        func loadPending() throws -> [ScheduledEntry] { [] }
        func save(_ entry: ScheduledEntry) throws {}
        func cancel(_ id: ScheduleID) throws {}
        func firedPeriodic(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws { calls.withLock { $0.append("fired \(event.id)") } }
        func completeFired(_ fired: FiredEntry, event: Event) throws {
            #expect(fired.eventID == event.id)
            calls.withLock { $0.append("complete \(event.id)") }
        }
    }

    @Test("a scheduler with its own publish closure completes a one-shot entry once its event was published")
    func closure() throws {
        let store = OrderStore()
        let clock = ManualClock()
        let scheduler = Scheduler(clock: clock, store: store) { event in store.calls.withLock { $0.append("published \(event.id)") } }
        try scheduler.start()
        defer { scheduler.stop() }
        _ = try scheduler.schedule(Event(type: "t", id: "e-1"), after: .seconds(1))
        clock.advance(by: .seconds(1))
        #expect(store.calls.withLock { $0 } == ["published e-1", "complete e-1"])
    }

    @Test("in an event system, a fired entry is completed after every handler of its event ran, and only then")
    func afterHandling() throws {
        let store = OrderStore()
        var configuration = EventSystemConfiguration()
        configuration.workerCount = 1
        let clock = ManualClock()
        configuration.clock = clock
        configuration.scheduleStore = store
        let system = try EventSystem(configuration: configuration)
        try system.subscribe("t") { event in store.calls.withLock { $0.append("handled \(event.id)") } }
        try system.subscribe("**") { event in store.calls.withLock { $0.append("handled again \(event.id)") } }
        try system.start()
        _ = try system.schedule(Event(type: "t", id: "e-1"), after: .seconds(1))
        try system.publish(Event(type: "t", id: "p-1"))  // not fired by an entry: nothing to complete
        clock.advance(by: .seconds(1))
        system.stop()
        #expect(store.calls.withLock { $0 } == ["handled p-1", "handled again p-1", "handled e-1", "handled again e-1", "complete e-1"])
    }

    @Test("a handler subscribed to complete fired entries is given the entry; the system then leaves completing it to that handler")
    func handedOver() throws {
        let store = OrderStore()
        var configuration = EventSystemConfiguration()
        configuration.workerCount = 1
        let clock = ManualClock()
        configuration.clock = clock
        configuration.scheduleStore = store
        let system = try EventSystem(configuration: configuration)
        let given = Locked<[String]>([])
        try system.subscribe("**", completingFiredEntries: { event, fired in
            given.withLock { $0.append("\(event.id) \(fired.map { "\($0.id.rawValue.hasPrefix("s-")) \($0.eventID)" } ?? "nil")") }
        })
        try system.start()
        let id = try system.schedule(Event(type: "t", id: "e-1"), after: .seconds(1))
        try system.publish(Event(type: "t", id: "p-1"))
        clock.advance(by: .seconds(1))
        system.stop()
        #expect(given.withLock { $0 } == ["p-1 nil", "e-1 true e-1"])
        #expect(id.rawValue.hasPrefix("s-"))
        #expect(store.calls.withLock { $0 }.isEmpty)  // the handler did not complete it: it stays pending
    }
}
