import SymphonyCrypto
import Testing
@testable import SymphonyEvents

/// Events sealed together: one envelope per priority in a published group, opened by one worker.
@Suite struct SealedBatchTests {
    static func events(priority: Int = 4) -> [Event] {
        [
            Event(type: "ticket.created", payload: ["text": "refund please", "order": 1234], priority: priority, id: "e-1", source: "desk",
                  time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000)),
            Event(type: "metric.cpu", payload: ["value": 0.5, "tags": ["a", "ü"]], priority: priority, id: "e-2",
                  time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_001), causation: Causation(parentID: "e-1", rule: "r", hop: 2)),
            Event(type: "empty", payload: [:], priority: priority, id: "e-3", time: Timestamp(nanosecondsSinceEpoch: -5)),
        ]
    }

    @Test("a batch opens to its events, in order, with every field")
    func roundTrip() throws {
        let sealer = EnvelopeSealer(key: try EncryptionKey.generate())
        let batch = try SealedBatch(sealing: Self.events(), priority: 4, with: sealer)
        #expect(batch.ids == ["e-1", "e-2", "e-3"])
        #expect(batch.types == ["ticket.created", "metric.cpu", "empty"])
        let opened = try batch.open(with: sealer)
        #expect(opened.map(\.id) == ["e-1", "e-2", "e-3"])
        for (got, want) in zip(opened, Self.events()) {
            #expect(got.type == want.type && got.priority == 4 && got.source == want.source)
            #expect(got.time == want.time && got.causation == want.causation && got.payload == want.payload)
        }
    }

    @Test("changing, reordering, adding or removing an event beside the envelope, or its priority, makes it fail to open")
    func tampering() throws {
        let sealer = EnvelopeSealer(key: try EncryptionKey.generate())
        let batch = try SealedBatch(sealing: Self.events(), priority: 4, with: sealer)
        var altered: [SealedBatch] = []
        var priority = batch
        priority.priority = 0
        var swapped = batch
        swapped.ids.swapAt(0, 1)
        swapped.types.swapAt(0, 1)
        var renamed = batch
        renamed.types[2] = "full"
        var dropped = batch
        dropped.ids.removeLast()
        dropped.types.removeLast()
        var added = batch
        added.ids.append("e-4")
        added.types.append("empty")
        var flipped = batch
        flipped.envelope[20] ^= 1
        altered = [priority, swapped, renamed, dropped, added, flipped]
        for batch in altered {
            let error = #expect(throws: CryptoError.self) { try batch.open(with: sealer) }
            #expect(error?.code == .authenticationFailed)
        }
        var uneven = batch
        uneven.types.removeLast()
        #expect(throws: EventsError.self) { try uneven.open(with: sealer) }
        let foreign = #expect(throws: CryptoError.self) { try batch.open(with: EnvelopeSealer(key: try EncryptionKey.generate())) }
        #expect(foreign?.code == .unknownKey)
    }

    @Test("a well-sealed plaintext that does not hold exactly its events' bodies is refused")
    func malformedPlaintext() throws {
        let sealer = EnvelopeSealer(key: try EncryptionKey.generate())
        let ids = ["a", "b"]
        let types = ["t", "t"]
        let context = SealedBatch.context(priority: 5, ids: ids, types: types)
        let one = EventBodyCodec.encode(Event(type: "t", id: "a"))
        var length: [UInt8] = []
        BigEndianBytes.append(UInt32(one.count), to: &length)
        let plaintexts: [[UInt8]] = [
            [],  // no version
            [2] + length + one + length + one,  // unknown version
            [1] + length + one,  // one body for two events
            [1] + length + one + length + one + [0],  // trailing byte
            [1] + length + one + [0, 0, 0, 200] + one,  // a length past the end
        ]
        for plaintext in plaintexts {
            let batch = SealedBatch(priority: 5, ids: ids, types: types, envelope: try sealer.seal(plaintext, context: context))
            let error = #expect(throws: EventsError.self) { try batch.open(with: sealer) }
            #expect(error?.code == .malformedEventBody)
        }
        let good = SealedBatch(priority: 5, ids: ids, types: types, envelope: try sealer.seal([1] + length + one + length + one, context: context))
        #expect(try good.open(with: sealer).map(\.id) == ["a", "b"])
    }

    @Test("a published group is sealed as one batch per priority; one worker delivers them in priority order, each once")
    func publishedGroupsDeliverInOrder() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let recorder = Recorder()
        try system.subscribe("**") { recorder.record($0) }
        let events = (0..<150).map { Event(type: "job.run", payload: ["n": .int(Int64($0))], priority: ($0 * 7) % 10, id: "j-\($0)") }
        #expect(try system.publish(contentsOf: events) == 150)
        let queued = system.dispatcher.queue.removeAll()
        // 150 events: groups of 64, 64 and 22, each split by priority; every item a batch.
        #expect(queued.allSatisfy { if case .batch = $0 { true } else { false } })
        #expect(queued.reduce(0) { $0 + $1.eventCount } == 150)
        #expect(queued.count == 30)  // ten priorities in each of the three groups
        #expect(try system.publish(contentsOf: events) == 150)
        try system.start()
        system.stop()
        // Before the worker started: all of priority 0 in publication order, then 1, and so on.
        let expected = events.enumerated().sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }.map(\.element.id)
        #expect(recorder.ids == expected)
        #expect(system.counters.delivered == 150)
    }

    @Test("every event of a batch that does not open goes to the dead-letter sink by id and counts as failed")
    func undeliverableBatch() throws {
        let (system, key, sink, recorder) = try keyedSystem()
        var tampered = try SealedBatch(sealing: Self.events(), priority: 4, with: EnvelopeSealer(key: key))
        tampered.envelope[tampered.envelope.count - 1] ^= 0x80
        try system.dispatcher.queue.push(allOf: [(.batch(tampered), 4, 3)])
        try system.publish(contentsOf: [Event(type: "good", id: "g-1")])
        try system.start()
        system.stop()
        #expect(recorder.ids == ["g-1"])
        #expect(sink.all.map(\.eventID) == ["e-1", "e-2", "e-3"])
        #expect(sink.all.map(\.eventType) == ["ticket.created", "metric.cpu", "empty"])
        #expect(system.counters.failed == 3)
    }

    @Test("publish(contentsOf:) queues whole groups: with the fail policy, the groups that fit are counted; none fitting throws full")
    func groupsThatFit() throws {
        var configuration = EventSystemConfiguration.testing(workers: 1)
        configuration.queueCapacity = 70
        configuration.whenFull = .fail
        let system = try EventSystem(configuration: configuration)
        let events = (0..<100).map { Event(type: "a.b", priority: 3, id: "g-\($0)") }
        #expect(try system.publish(contentsOf: events) == 64)  // 64 fit; the next 36 would make 100
        #expect(system.counters.published == 64)
        #expect(system.counters.queueDepth == 64)
        let full = #expect(throws: EventsError.self) { try system.publish(contentsOf: Array(events[64...])) }
        #expect(full?.code == .full)
        #expect(system.counters.published == 64)
        system.dispatcher.queue.close()
        let closed = #expect(throws: EventsError.self) { try system.publish(contentsOf: [Event(type: "a.b", id: "late")]) }
        #expect(closed?.code == .closed)
        _ = system.stopNow()
    }

    @Test("stopNow hands back every event of the batches still queued")
    func stopNowOpensBatches() throws {
        let system = try EventSystem(configuration: .testing(workers: 1))
        let events = (0..<70).map { Event(type: "a.b", priority: $0 % 2, id: "s-\($0)") }
        #expect(try system.publish(contentsOf: events) == 70)
        #expect(system.counters.queueDepth == 70)
        let handedBack = system.stopNow()
        #expect(Set(handedBack.map(\.id)) == Set(events.map(\.id)))
        #expect(handedBack.count == 70)
    }
}
