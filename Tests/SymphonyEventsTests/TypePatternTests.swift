import Foundation
import Synchronization
import SymphonyConcurrency
import Testing
@testable import SymphonyEvents

@Suite struct TypePatternTests {
    @Test("wildcards match as documented", arguments: [
        ("ticket.created", "ticket.created", true),
        ("ticket.created", "ticket.updated", false),
        ("ticket.*", "ticket.created", true),
        ("ticket.*", "ticket", false),
        ("ticket.*", "ticket.a.b", false),
        ("*.created", "order.created", true),
        ("ssh.**", "ssh", true),
        ("ssh.**", "ssh.login", true),
        ("ssh.**", "ssh.login.failed", true),
        ("ssh.**", "sshd.login", false),
        ("**", "anything.at.all", true),
        ("a.**.z", "a.z", true),
        ("a.**.z", "a.b.c.z", true),
        ("a.**.z", "a.b.c", false),
        ("**.failed", "ssh.login.failed", true),
        ("*.*", "a", false),
    ])
    func matching(pattern: String, type: String, expected: Bool) throws {
        #expect(try TypePattern(pattern).matches(type) == expected)
    }

    @Test("invalid patterns are refused with the reason", arguments: [
        ("", "Invalid type pattern '': it is empty."),
        ("ticket..created", "Invalid type pattern 'ticket..created': it has an empty segment."),
        ("ticket.cre*", "Invalid type pattern 'ticket.cre*': '*' and '**' must stand alone as a whole segment."),
        ("ticket created", "Invalid type pattern 'ticket created': segments may hold only letters, digits, '_' and '-'."),
    ])
    func invalidPatterns(pattern: String, message: String) {
        let error = #expect(throws: EventsError.self) { try TypePattern(pattern) }
        #expect(error?.code == .invalidPattern)
        #expect(error?.message == message)
    }

    @Test("event types may not contain wildcards")
    func typesHaveNoWildcards() {
        let error = #expect(throws: EventsError.self) { try EventType.validate("ticket.*") }
        #expect(error?.message == "Invalid event type 'ticket.*': wildcards are allowed only in patterns.")
    }
}

@Suite struct HandlerRegistryTests {
    func names(_ registry: HandlerRegistry, _ type: String) -> [String] {
        registry.handlers(for: type).map(\.pattern.text)
    }

    @Test("exact and wildcard subscriptions resolve in subscription order")
    func resolution() throws {
        let registry = HandlerRegistry()
        for pattern in ["**", "ticket.created", "ticket.*", "ssh.**", "*.created", "ticket.created"] {
            registry.add(try TypePattern(pattern)) { _ in }
        }
        #expect(names(registry, "ticket.created") == ["**", "ticket.created", "ticket.*", "*.created", "ticket.created"])
        #expect(names(registry, "ssh.login.failed") == ["**", "ssh.**"])
        #expect(names(registry, "deploy") == ["**"])
    }

    @Test("a pattern reachable two ways through the trie is returned once")
    func noDuplicates() throws {
        let registry = HandlerRegistry()
        registry.add(try TypePattern("**.**")) { _ in }
        #expect(names(registry, "a.b.c") == ["**.**"])
    }

    @Test("removing a subscription takes it out of cached results")
    func removal() throws {
        let registry = HandlerRegistry()
        let exact = registry.add(try TypePattern("a.b")) { _ in }
        let wildcard = registry.add(try TypePattern("a.*")) { _ in }
        #expect(names(registry, "a.b") == ["a.b", "a.*"])
        #expect(registry.remove(exact))
        #expect(names(registry, "a.b") == ["a.*"])
        #expect(registry.remove(wildcard))
        #expect(names(registry, "a.b") == [])
        #expect(!registry.remove(wildcard))
        #expect(registry.count == 0)
    }

    @Test("threads with their own cached lists see every subscription made while they look up, once it is made", .timeLimit(.minutes(10)))
    func cachesPerThread() throws {
        let registry = HandlerRegistry()
        registry.add(try TypePattern("a.b")) { _ in }
        let stop = Atomic<Bool>(false)
        let stale = Atomic<Int>(0)
        let done = DispatchGroup()
        for _ in 0..<4 {
            done.enter()
            Thread {
                while !stop.load(ordering: .acquiring) {
                    // Subscriptions only grow here: a lookup never sees fewer than one before it.
                    var seen = 0
                    for _ in 0..<50 {
                        let count = registry.handlers(for: "a.b").count
                        if count < seen { stale.add(1, ordering: .relaxed) }
                        seen = count
                    }
                }
                done.leave()
            }.start()
        }
        for _ in 0..<200 {
            registry.add(try TypePattern("a.*")) { _ in }
            // Once added, this thread's lookup (its own cache may hold the list from before) has it.
            #expect(registry.handlers(for: "a.b").count == registry.count)
        }
        stop.store(true, ordering: .releasing)
        #expect(done.wait(timeout: .now() + 300) == .success)
        #expect(stale.load(ordering: .relaxed) == 0)
        #expect(registry.handlers(for: "a.b").count == 201)
        // Every stripe's list is brought up to date: a fresh thread sees all of them too.
        let fresh = Locked(0)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            fresh.withLock { $0 = registry.handlers(for: "a.b").count }
            finished.signal()
        }.start()
        #expect(finished.wait(timeout: .now() + 300) == .success)
        #expect(fresh.withLock { $0 } == 201)
    }
}

@Suite struct EventBodyCodecTests {
    @Test("an event survives encoding and decoding, nested and non-Latin payloads included")
    func roundTrip() throws {
        let event = Event(
            type: "ticket.created",
            payload: [
                "text": "Je veux être remboursé de 12 € — 返金してください", "order": 1234, "ratio": 0.25, "vip": true,
                "tags": ["a", nil, ["deep": [1, 2.5]]], "none": nil,
            ],
            priority: 2, id: "e-1", source: "helpdesk", time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_123_456_789),
            causation: Causation(parentID: "e-0", rule: "triage", hop: 3))
        let bytes = EventBodyCodec.encode(event)
        #expect(try EventBodyCodec.decode(bytes, id: "e-1", type: "ticket.created", priority: 2) == event)
    }

    @Test("truncated or garbage bodies are reported, never crash", arguments: [[], [1], [2, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]] as [[UInt8]])
    func malformed(bytes: [UInt8]) {
        let error = #expect(throws: EventsError.self) { try EventBodyCodec.decode(bytes, id: "x", type: "t", priority: 5) }
        #expect(error?.code == .malformedEventBody)
    }

    @Test("absurd element counts are refused before allocating")
    func hugeCounts() {
        var bytes: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0xFF, 0xFF, 0xFF, 0xFF]
        bytes += [0, 0]
        let error = #expect(throws: EventsError.self) { try EventBodyCodec.decode(bytes, id: "x", type: "t", priority: 5) }
        #expect(error?.message == "The event body ends too early.")
    }

    @Test("deep nesting beyond the limit is refused")
    func deepNesting() {
        var bytes: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        for _ in 0..<300 { bytes += [6, 0, 0, 0, 1] }
        bytes.append(0)
        let error = #expect(throws: EventsError.self) { try EventBodyCodec.decode(bytes, id: "x", type: "t", priority: 5) }
        #expect(error?.message == "The event body nests deeper than 256 levels.")
    }
}
