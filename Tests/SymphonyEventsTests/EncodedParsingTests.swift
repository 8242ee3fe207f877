import SymphonyJSON
import Testing

@testable import SymphonyEvents

/// Input lines are parsed with their payload written straight into the body encoding: the parser
/// must accept and refuse exactly what the tree parser does, with the same errors, and encode the
/// same payload the tree holds.
@Suite struct EncodedParsingTests {
    typealias Outcome = Result<(value: JSONValue, payload: JSONValue?), JSONParser.ParseError>

    /// Both parsers' answers for `text`, in one shape: the line without its payload, and the payload.
    static func parsed(_ text: String) -> (tree: Outcome, encoded: Outcome) {
        let bytes = Array(text.utf8)
        let tree: Outcome
        do {
            var value = try JSONParser.parse(bytes)
            var payload: JSONValue?
            if case .object(var members) = value, let member = members["payload"], case .object = member {
                members["payload"] = nil
                value = .object(members)
                payload = member
            }
            tree = .success((value, payload))
        } catch {
            tree = .failure(error)
        }
        let encoded: Outcome = bytes.withUnsafeBufferPointer { buffer in
            do throws(JSONParser.ParseError) {
                let (value, payloadBytes) = try JSONParser.parse(buffer, encodingMember: "payload")
                return .success((value, try? payloadBytes.map { try EncodedPayload(validating: $0).value }))
            } catch {
                return .failure(error)
            }
        }
        return (tree, encoded)
    }

    static func same(_ lhs: Outcome, _ rhs: Outcome) -> Bool {
        switch (lhs, rhs) {
        case (.success(let left), .success(let right)): left.value == right.value && left.payload == right.payload
        case (.failure(let left), .failure(let right)): left == right && left.topLevelKey == right.topLevelKey
        default: false
        }
    }

    static let lines: [String] = [
        #"{"type":"t","payload":{"a":1,"b":[true,null,2.5,"x"],"c":{"d":{"e":"deep"}},"s":"a longer string than fifteen"}}"#,
        #"{"payload":{},"type":"t"}"#,
        #"{"type":"t","payload":{"esc":"tab\there \"quoted\" \u00e9 \ud83d\ude00 \/ \\"}}"#,
        #"{"type":"t","payload":{"big":9223372036854775807,"neg":-9223372036854775808,"e":1e300,"small":-0.0,"z":0}}"#,
        #"{"type":"t","payload":[1,2]}"#,
        #"{"type":"t","payload":"text"}"#,
        #"{"type":"t","payload":null}"#,
        #"[{"payload":{"a":1}}]"#,
        #"{"type":"t","meta":{"payload":{"a":1}},"payload":{"payload":{"a":2}}}"#,
        // Refused: every error must be the tree parser's, at the same byte, naming the same field.
        #"{"type":"t","payload":{"a":1,"a":2}}"#,
        #"{"type":"t","payload":{"caf\u00e9":1,"cafe\u0301":2}}"#,
        "{\"type\":\"t\",\"payload\":{\"café\":1,\"cafe\u{301}\":2}}",
        #"{"type":"t","payload":{"a":{"b":1,"c":2,"b":3}}}"#,
        "{\"type\":\"t\",\"payload\":{\"K\":1,\"\u{212A}\":2}}",
        // Past the keys compared one by one, a set of keys: repeats are still found, by equivalence too.
        "{\"type\":\"t\",\"payload\":{" + (0..<40).map { "\"k\($0)\":\($0)," }.joined() + "\"k7\":0}}",
        "{\"type\":\"t\",\"payload\":{" + (0..<40).map { "\"é\($0)\":\($0)," }.joined() + "\"e\u{301}7\":0}}",
        "{\"type\":\"t\",\"payload\":{" + (0..<40).map { "\"é\($0)\":\($0)," }.joined() + "\"K\":{\"\u{212A}\":1,\"K\":2}}}",
        "{\"type\":\"t\",\"payload\":{" + (0..<40).map { "\"k\($0)\":{\"x\":\($0)}" }.joined(separator: ",") + "}}",
        #"{"type":"t","payload":{"a":1},"payload":{"a":1}}"#,
        // Past 16 root members the line's keys go into a set: repeats are still refused, by equivalence too.
        "{\"type\":\"t\",\"payload\":{\"a\":1}," + (0..<20).map { "\"m\($0)\":\($0)" }.joined(separator: ",") + "}",
        "{\"type\":\"t\",\"payload\":{\"a\":1}," + (0..<20).map { "\"m\($0)\":\($0)," }.joined() + "\"m3\":0}",
        "{\"type\":\"t\"," + (0..<20).map { "\"é\($0)\":\($0)," }.joined() + "\"e\u{301}7\":0,\"payload\":{}}",
        "{\"payload\":{\"a\":1}," + (0..<20).map { "\"m\($0)\":\($0)," }.joined() + "\"payload\":{\"b\":2}}",
        #"{"type":"t","payload":{"a":1},"payload":2}"#,
        #"{"type":"t","payload":2,"payload":{"a":1}}"#,
        #"{"type":"t","payload":{"a":1,"a":"x",}}"#,
        #"{"type":"t","payload":{"a":[1,2,]}}"#,
        #"{"type":"t","payload":{"a":"unterminated}}"#,
        #"{"type":"t","payload":{"a":"bad \q escape"}}"#,
        #"{"type":"t","payload":{"a":"lone \ud800 surrogate"}}"#,
        #"{"type":"t","payload":{"a":12345678901234567890}}"#,
        #"{"type":"t","payload":{"a":1e-400}}"#,
        #"{"type":"t","payload":{"a":01}}"#,
        #"{"type":"t","payload":{"a" 1}}"#,
        #"{"type":"t","payload":{1:2}}"#,
        #"{"type":"t","payload":{"a":tru}}"#,
        #"{"type":"t","payload":{"a":1}} trailing"#,
        "{\"type\":\"t\",\"payload\":{\"a\":\"control \u{1} char\"}}",
        #"{"type":"t","payload":"# + String(repeating: "{\"a\":", count: 300) + "1" + String(repeating: "}", count: 300) + "}",
        #"{"type":"t","payload":"# + String(repeating: "[", count: 254) + String(repeating: "]", count: 254) + "}",
        #"{"type":"t","payload":"# + String(repeating: "[", count: 255) + String(repeating: "]", count: 255) + "}",
    ]

    @Test("hand-picked lines, accepted and refused: both parsers give the same answer")
    func handPicked() {
        for line in Self.lines {
            let (tree, encoded) = Self.parsed(line)
            #expect(Self.same(tree, encoded), "\(line.prefix(80))")
        }
        if case .success(let parsed) = Self.parsed(Self.lines[2]).encoded {
            #expect(parsed.payload?["esc"] == .string("tab\there \"quoted\" é 😀 / \\"))
        } else {
            Issue.record("the escapes line was refused")
        }
    }

    @Test("a payload whose encoding is several times longer than its text (small numbers, empty arrays) encodes whole")
    func encodingLongerThanText() {
        for body in [(0..<5_000).map { "\($0 % 10)" }.joined(separator: ","), Array(repeating: "[]", count: 5_000).joined(separator: ",")] {
            let line = "{\"type\":\"t\",\"payload\":{\"a\":[" + body + "]}}"
            let (tree, encoded) = Self.parsed(line)
            #expect(Self.same(tree, encoded))
            if case .success(let parsed) = encoded { if case .array(let elements)? = parsed.payload?["a"] { #expect(elements.count == 5_000) } else { Issue.record("no array") } } else { Issue.record("refused") }
        }
    }

    @Test("a payload of 100,000 keys (ASCII, and non-ASCII) parses in linear time, and a repeat at its end is found")
    func manyKeys() {
        for prefix in ["k", "é"] {
            let members = (0..<100_000).map { "\"\(prefix)\($0)\":\($0)" }.joined(separator: ",")
            let line = "{\"type\":\"t\",\"payload\":{" + members + "}}"
            let (tree, encoded) = Self.parsed(line)
            #expect(Self.same(tree, encoded))
            if case .success(let parsed) = encoded { #expect(parsed.payload?.objectValue?.count == 100_000) } else { Issue.record("refused") }
            let repeated = "{\"type\":\"t\",\"payload\":{" + members + ",\"\(prefix)99999\":0}}"
            let (treeRepeat, encodedRepeat) = Self.parsed(repeated)
            #expect(Self.same(treeRepeat, encodedRepeat))
            if case .failure(let error) = encodedRepeat { #expect(error.message == "a key appears twice in one object") } else { Issue.record("accepted") }
        }
    }

    @Test("every prefix and a seeded set of corruptions of valid lines: both parsers give the same answer")
    func corrupted() {
        var generator = SplitMix64(seed: 11)
        var compared = 0
        for index in 0..<200 {
            let payload = EncodedPayloadTests.randomValue(&generator, depth: 0)
            let wrapped: JSONValue = ["type": "t.x", "priority": .int(Int64(index % 10)), "payload": ["p": payload, "n": .int(Int64(index))]]
            let line = Array(wrapped.jsonText.utf8)
            var variants: [[UInt8]] = [line]
            for cut in stride(from: 0, to: line.count, by: max(1, line.count / 25)) { variants.append(Array(line[..<cut])) }
            let noise = Array(#"{}[]",:\"0e-"#.utf8)
            for _ in 0..<10 {
                var changed = line
                let position = Int.random(in: 0..<changed.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: changed.remove(at: position)
                case 1: changed.insert(noise[Int.random(in: 0..<noise.count, using: &generator)], at: position)
                default: changed[position] = noise[Int.random(in: 0..<noise.count, using: &generator)]
                }
                variants.append(changed)
            }
            for variant in variants {
                let text = String(decoding: variant, as: UTF8.self)
                let (tree, encoded) = Self.parsed(text)
                #expect(Self.same(tree, encoded), "\(text)")
                compared += 1
            }
        }
        #expect(compared > 5_000)
    }
}
