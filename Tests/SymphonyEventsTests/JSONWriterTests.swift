import SymphonyJSON
import Testing

@testable import SymphonyEvents

/// Output lines are written as bytes, keys in a fixed order, payloads from their encoded bytes:
/// every line must be exactly what the tree printed (`JSONValue.jsonText`, keys sorted).
@Suite struct JSONWriterTests {
    static let trickyStrings = ["", "plain", "say \"hi\"", #"C:\temp"#, "line\nbreak\r\ttab", "bell\u{07}nul\u{00}\u{1F}del\u{7F}",
                                "sep\u{2028}para\u{2029}", "élodie 東京 🎵", "\u{2027}\u{202A}", "\"\"\\\\", "e\u{301}"]

    static func encoded(_ value: JSONValue) throws -> EncodedPayload {
        let event = try EventBodyCodec.decode(
            EventBodyCodec.encode(Event(type: "t", payload: value, id: "e")), id: "e", type: "t", priority: 5)
        return try #require(event.encodedPayload)
    }

    static func written(_ payload: EncodedPayload) -> String {
        var writer = JSONWriter()
        payload.writeJSON(to: &writer)
        return writer.text
    }

    @Test("an encoded payload prints exactly as its tree does, for 600 random payloads")
    func randomPayloads() throws {
        var generator = SplitMix64(seed: 0x0DD_BA11)
        for _ in 0..<600 {
            let value = EncodedPayloadTests.randomValue(&generator, depth: 0)
            #expect(Self.written(try Self.encoded(value)) == value.jsonText)
        }
    }

    @Test("strings and keys that need escaping, non-ASCII keys and doubles print as the tree prints them")
    func trickyValues() throws {
        var members: [String: JSONValue] = [:]
        for (index, text) in Self.trickyStrings.enumerated() {
            members[text] = .string(text)
            members["k\(index)"] = .array([.string(text), .double(Double(index) / 3), .double(1e15), .double(-0.0), .double(42)])
        }
        let asciiOnly: JSONValue = .object(members.filter { $0.key.utf8.allSatisfy { $0 < 0x80 } })
        for value in [JSONValue.object(members), asciiOnly, .array([]), .object([:]), .string("\u{2028}")] {
            #expect(Self.written(try Self.encoded(value)) == value.jsonText)
        }
    }

    /// Hand-built bytes: an object of `members` (key bytes, encoded value), which no parser would accept.
    static func object(_ members: [([UInt8], [UInt8])]) throws -> EncodedPayload {
        var bytes: [UInt8] = [BinaryValueEncoding.object, 0, 0, 0, UInt8(members.count)]
        for (key, value) in members {
            bytes += [0, 0, 0, UInt8(key.count)] + key + value
        }
        return try EncodedPayload(validating: bytes)
    }

    static func string(_ utf8: [UInt8]) -> [UInt8] { [BinaryValueEncoding.string, 0, 0, 0, UInt8(utf8.count)] + utf8 }

    @Test("repeated keys print once with the last value, and invalid UTF-8 is repaired, as the tree does")
    func repeatedKeysAndInvalidUTF8() throws {
        let one: [UInt8] = [BinaryValueEncoding.int] + [0, 0, 0, 0, 0, 0, 0, 1]
        let two: [UInt8] = [BinaryValueEncoding.int] + [0, 0, 0, 0, 0, 0, 0, 2]
        let repeated = try Self.object([(Array("b".utf8), one), (Array("a".utf8), one), (Array("b".utf8), two)])
        #expect(Self.written(repeated) == repeated.value.jsonText)
        #expect(Self.written(repeated) == #"{"a":1,"b":2}"#)
        // "é" composed and decomposed: one key to a tree (the last wins).
        let equivalent = try Self.object([(Array("é".utf8), one), (Array("e\u{301}".utf8), two)])
        #expect(Self.written(equivalent) == equivalent.value.jsonText)
        let invalid = try Self.object([(Array("s".utf8), Self.string([0x61, 0xFF, 0xC3]))])
        #expect(Self.written(invalid) == invalid.value.jsonText)
        #expect(Self.written(invalid) == "{\"s\":\"a\u{FFFD}\u{FFFD}\"}")
    }

    @Test("an event prints as its object does, with an encoded payload or a tree, with and without source and causation")
    func events() throws {
        let payload: JSONValue = ["text": "refund \"now\"\n", "n": 3, "nested": ["z": [1.5, nil], "a": true]]
        let plain = Event(type: "ticket.created", payload: payload, priority: 2, id: "e-1")
        let full = Event(
            type: "a.b", payload: payload, priority: 0, id: "e\"2", source: "desk\u{1}", time: Timestamp(nanosecondsSinceEpoch: 123),
            causation: Causation(parentID: "e-1", rule: "rule \"x\"", hop: 7))
        for event in [plain, full, try EncodedPayloadTests.opened(plain), try EncodedPayloadTests.opened(full)] {
            #expect(EventJSON.text(event) == EventJSON.object(event).jsonText)
        }
    }
}
