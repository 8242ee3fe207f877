import Foundation
import SymphonyCrypto
import SymphonyJSON
import Testing

@testable import SymphonyEvents

/// An opened envelope's event keeps its payload encoded and reads fields in place: every lookup
/// must answer what the same lookup on the tree answers.
@Suite struct EncodedPayloadTests {
    /// A seeded random payload: objects, arrays, strings (non-ASCII ones too), numbers, booleans, nulls.
    static func randomValue(_ generator: inout SplitMix64, depth: Int) -> JSONValue {
        let keys = ["a", "b", "name", "items", "é", "日本", "x.y", "", "0", "-1"]
        switch Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &generator))
        case 3: return .double(Double.random(in: -1e9...1e9, using: &generator))
        case 4: return .string(["", "short", "a string longer than fifteen bytes", "naïve café", "返金"][Int.random(in: 0..<5, using: &generator)])
        case 5: return .int(Int64.random(in: -3...3, using: &generator))
        case 6:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                members[keys[Int.random(in: 0..<keys.count, using: &generator)]] = randomValue(&generator, depth: depth + 1)
            }
            return .object(members)
        }
    }

    /// Every path into `value` (up to three steps), plus steps that lead nowhere.
    static func paths(in value: JSONValue, prefix: [String] = []) -> [[String]] {
        var paths = [prefix, prefix + ["missing"], prefix + ["5"], prefix + ["-9"]]
        guard prefix.count < 3 else { return paths }
        switch value {
        case .object(let members):
            for (key, member) in members { paths += Self.paths(in: member, prefix: prefix + [key]) }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                paths += Self.paths(in: element, prefix: prefix + [String(index)])
                paths += Self.paths(in: element, prefix: prefix + [String(index - elements.count)])
            }
        default: break
        }
        return paths
    }

    /// The tree lookup the rules made before payloads stayed encoded.
    static func treeLookup(_ value: JSONValue, _ path: [String]) -> JSONValue? {
        var current = value
        for segment in path {
            guard let next = current.child(segment) else { return nil }
            current = next
        }
        return current
    }

    static func opened(_ event: Event) throws -> Event {
        try EventBodyCodec.decode(EventBodyCodec.encode(event), id: event.id, type: event.type, priority: event.priority)
    }

    @Test("lookups on an opened event's encoded payload answer what the tree answers, on 300 random payloads")
    func lookupsMatchTheTree() throws {
        var generator = SplitMix64(seed: 7)
        var compared = 0
        for index in 0..<300 {
            var payload = Self.randomValue(&generator, depth: 0)
            if index % 3 == 0 { payload = ["wrapped": payload, "list": [payload, 1, "two"]] }
            let event = Event(type: "t.x", payload: payload, id: "e-\(index)")
            let opened = try Self.opened(event)
            #expect(opened.encodedPayload != nil)
            #expect(opened.payload == payload)
            #expect(opened == event)
            #expect(opened.hashValue == event.hashValue)
            for path in Self.paths(in: payload) {
                let expected = Self.treeLookup(payload, path)
                #expect(opened.payloadValue(at: path[...]) == expected, "path \(path)")
                #expect(event.payloadValue(at: path[...]) == expected, "path \(path)")
                compared += 1
            }
        }
        #expect(compared > 3_000)
    }

    @Test("an element past either end of an array is missing, not null")
    func outOfRange() throws {
        let payload: JSONValue = ["items": [1, nil]]
        for event in [Event(type: "t", payload: payload), try Self.opened(Event(type: "t", payload: payload))] {
            #expect(event.payloadValue(at: ["items", "1"]) == .some(.null))
            #expect(event.payloadValue(at: ["items", "-1"]) == .some(.null))
            #expect(event.payloadValue(at: ["items", "2"]) == Optional<JSONValue>.none)
            #expect(event.payloadValue(at: ["items", "-3"]) == Optional<JSONValue>.none)
        }
    }

    @Test("a key is found under any canonically equivalent spelling, as a dictionary finds it")
    func canonicalEquivalence() throws {
        let payload: JSONValue = ["caf\u{E9}": 1, "plain": ["nested\u{E9}": "deep"]]
        let opened = try Self.opened(Event(type: "t", payload: payload))
        #expect(opened.payloadValue(at: ["cafe\u{301}"]) == 1)
        #expect(opened.payloadValue(at: ["caf\u{E9}"]) == 1)
        #expect(opened.payloadValue(at: ["plain", "nestede\u{301}"]) == "deep")
        #expect(opened.payloadValue(at: ["cafe"]) == nil)
        // An ASCII key and a non-ASCII one can be equivalent too: K and U+212A KELVIN SIGN.
        let kelvin = try Self.opened(Event(type: "t", payload: ["\u{212A}": 1, "k": 2]))
        #expect(kelvin.payloadValue(at: ["K"]) == 1)
        #expect(kelvin.payloadValue(at: ["\u{212A}"]) == 1)
        #expect(kelvin.payloadValue(at: ["k"]) == 2)
    }

    /// Field lookups skip the non-ASCII check for keys no longer than an ASCII key they differ
    /// from, because a non-ASCII spelling of ASCII text is always longer in UTF-8. That holds if
    /// every scalar whose canonical decomposition is ASCII is longer than that decomposition.
    @Test("a non-ASCII key equivalent to an ASCII one is longer in UTF-8")
    func nonASCIIEquivalentsAreLonger() {
        var found = 0
        for value in UInt32(0x80)...0x2FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(Character(scalar))
            let decomposed = text.decomposedStringWithCanonicalMapping
            guard decomposed.utf8.allSatisfy({ $0 < 0x80 }) else { continue }
            found += 1
            #expect(decomposed.utf8.count < text.utf8.count, "U+\(String(value, radix: 16))")
            #expect(decomposed == text)  // the equivalence the lookup must honour
        }
        #expect(found > 0)  // U+212A KELVIN SIGN, U+037E GREEK QUESTION MARK, …
    }

    /// Field lookups also pass over a longer key that starts with another ASCII character than an
    /// ASCII key wanted. That holds if an ASCII character followed by any scalar stays first (and
    /// unchanged) in the canonical form whenever that form is all ASCII.
    @Test("an ASCII character followed by any scalar keeps its place in an all-ASCII canonical form")
    func asciiStartersKeepTheirPlace() throws {
        for value in UInt32(0x80)...0x2FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = "a" + String(Character(scalar))
            let composed = text.precomposedStringWithCanonicalMapping
            guard composed.utf8.allSatisfy({ $0 < 0x80 }) else { continue }
            #expect(composed.utf8.first == UInt8(ascii: "a"), "U+\(String(value, radix: 16))")
        }
        // And the lookup: longer keys starting with other letters are passed over, an equivalent
        // spelling that starts with a non-ASCII scalar is found.
        let opened = try Self.opened(Event(type: "t", payload: ["\u{212A}ey": 1, "xkey": 2, "akeys": 3, "k": 4]))
        #expect(opened.payloadValue(at: ["Key"]) == 1)
        #expect(opened.payloadValue(at: ["key"]) == nil)
        #expect(opened.payloadValue(at: ["xkey"]) == 2)
        #expect(opened.payloadValue(at: ["akey"]) == nil)
        #expect(opened.payloadValue(at: [""]) == nil)
    }

    @Test("re-encoding an opened event copies its payload bytes unchanged")
    func reencoding() throws {
        let event = Event(type: "t", payload: ["n": 1, "s": "text", "a": [true, nil]], id: "e-1", source: "me")
        let body = EventBodyCodec.encode(event)
        let opened = try EventBodyCodec.decode(body, id: "e-1", type: "t", priority: event.priority)
        #expect(EventBodyCodec.encode(opened) == body)
        var changed = opened
        changed.payload = ["n": 2]
        #expect(changed.encodedPayload == nil)
        #expect(changed.payloadValue(at: ["n"]) == 2)
    }

    @Test("malformed payload bytes are refused when the payload is made", arguments: [
        ([], "The event body ends too early."),
        ([9], "The event body holds an unknown value tag."),
        ([5, 0, 0, 0, 9, 65], "The event body ends too early."),
        ([0, 0], "The event body has trailing bytes."),
        ([7, 0, 0, 0, 1, 0, 0, 0, 1, 65], "The event body ends too early."),
        ([6, 0xFF, 0xFF, 0xFF, 0xFF, 0], "The event body ends too early."),
    ] as [([UInt8], String)])
    func malformed(bytes: [UInt8], message: String) {
        let error = #expect(throws: EventsError.self) { try EncodedPayload(validating: bytes) }
        #expect(error?.code == .malformedEventBody)
        #expect(error?.message == message)
    }

    @Test("an envelope under a shared key has its payload checked when opened; only a fresh key's own sealer skips the check")
    func payloadsCheckedUnlessSealedHere() throws {
        // A body whose payload is malformed (a string tag, then a length past the end), sealed as
        // someone else holding the key could: refused when opened.
        var body = EventBodyCodec.encode(Event(type: "t", payload: [:], id: "x", time: Timestamp(secondsSinceEpoch: 1)))
        body.removeLast(5)  // the empty object: tag and count
        body += [5, 0, 0, 0, 9, 65]
        let shared = EnvelopeSealer(key: try EncryptionKey.generate())
        #expect(!shared.opensOnlyItsOwnEnvelopes)
        let forged = SealedEvent(id: "x", type: "t", priority: 5, envelope: try shared.seal(body, context: SealedEvent.context(id: "x", type: "t", priority: 5)))
        let error = #expect(throws: EventsError.self) { try forged.open(with: shared) }
        #expect(error?.message == "The event body ends too early.")
        // A fresh key's sealer opens only envelopes it sealed, from events whose payloads were checked.
        let fresh = try EnvelopeSealer.withFreshKey()
        #expect(fresh.opensOnlyItsOwnEnvelopes)
        let event = Event(type: "t", payload: ["a": [1, "two"], "b": nil], id: "y")
        let opened = try SealedEvent(sealing: event, with: fresh).open(with: fresh)
        #expect(opened == event)
        #expect(try SealedBatch(sealing: [event], priority: event.priority, with: fresh).open(with: fresh) == [event])
        // And it cannot open what another sealer made.
        #expect(throws: (any Error).self) { try forged.open(with: fresh) }
        // The event system's default encryption uses such a sealer; a key ring's does not trust.
        let system = try EventSystem(configuration: .testing(workers: 1))
        #expect(system.dispatcher.sealerOpensOnlyItsOwnEnvelopes == true)
        var ringed = EventSystemConfiguration.testing(workers: 1)
        ringed.encryption = .keyRing(KeyRing(active: try EncryptionKey.generate()))
        #expect(try EventSystem(configuration: ringed).dispatcher.sealerOpensOnlyItsOwnEnvelopes == false)
    }

    @Test("a tree payload deeper than the body encoding allows is refused when published, whatever the key", arguments: [true, false])
    func deepTreesRefused(ring: Bool) throws {
        var configuration = EventSystemConfiguration.testing(workers: 1)
        if ring { configuration.encryption = .keyRing(KeyRing(active: try EncryptionKey.generate())) }
        let system = try EventSystem(configuration: configuration)
        func nested(_ depth: Int) -> JSONValue {
            var value: JSONValue = 1
            for index in 0..<depth { value = index.isMultiple(of: 2) ? [value] : ["k": value] }
            return value
        }
        let error = #expect(throws: EventsError.self) { try system.publish(Event(type: "t", payload: nested(257))) }
        #expect(error?.message == "The payload nests deeper than 256 levels.")
        #expect(system.counters.published == 0)
        // At the limit it goes in, and comes out whole.
        let recorder = Recorder()
        try system.subscribe("t") { recorder.record($0) }
        try system.start()
        try system.publish(Event(type: "t", payload: nested(256), id: "deep"))
        system.dispatcher.waitUntilIdle()
        #expect(recorder.ids == ["deep"])
        system.stop()
    }
}
