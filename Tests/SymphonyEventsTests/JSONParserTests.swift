import SymphonyJSON
import Foundation
import SymphonyEvents
import Testing

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test("values of every kind, with white space, escapes and surrogate pairs")
    func values() throws {
        #expect(try parse(#" {"a": [1, -2.5, 1e3, true, false, null], "b": {"c": "x\"y\\z\/\n\u00e9\ud83d\ude00"}} "#) == [
            "a": [1, -2.5, 1000.0, true, false, nil], "b": ["c": "x\"y\\z/\né😀"],
        ])
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("9223372036854775808.0") == .double(9_223_372_036_854_775_808))  // not an integer literal: a Double
        #expect(try parse("-0") == .int(0))
        // Up to 18 characters an integer is read in place; from 19 through a string: both exact.
        #expect(try parse("999999999999999999") == .int(999_999_999_999_999_999))
        #expect(try parse("-99999999999999999") == .int(-99_999_999_999_999_999))
        #expect(try parse("1000000000000000000") == .int(1_000_000_000_000_000_000))
        #expect(try parse("-999999999999999999") == .int(-999_999_999_999_999_999))
        #expect(try parse("0e-400") == .double(0))  // zero written small is still zero
        #expect(try parse("-0.000e-999") == .double(-0.0))
        let subnormal = try #require(Double("1e-320"))
        #expect(subnormal > 0 && !subnormal.isNormal)
        #expect(try parse("1e-320") == .double(subnormal))  // subnormal, but not zero: accepted
        #expect(try parse(#""""#) == "")
        #expect(try parse(#"{"k": 1, "j": {"k": 2}}"#) == ["k": 1, "j": ["k": 2]])  // the same key in different objects is fine
    }

    @Test("invalid JSON is refused with the reason and the byte", arguments: [
        ("", "unexpected end of input at byte 1"),
        ("nope", "unexpected character at byte 1"),
        ("[1,]", "unexpected character at byte 4"),
        (#"{"a":1,}"#, "expected a string key at byte 8"),
        ("01", "unexpected text after the JSON value at byte 2"),
        (#"{"k": 1, "k": 2}"#, "a key appears twice in one object at byte 10"),
        ("1.", "invalid number at byte 3"),
        ("1e999", "number out of range at byte 1"),
        ("[1, -1E+400]", "number out of range at byte 5"),
        ("9223372036854775808", "integer out of range at byte 1"),
        ("[-9223372036854775809]", "integer out of range at byte 2"),
        ("1e-400", "number too close to zero to represent at byte 1"),
        ("[0.5, -0.0001e-330]", "number too close to zero to represent at byte 7"),
        (#""a\x""#, "an invalid escape at byte 5"),
        (#""\ud800""#, "a lone surrogate in a \\u escape at byte 8"),
        ("\"a\u{1}\"", "control character in a string at byte 3"),
        ("[1] [2]", "unexpected text after the JSON value at byte 5"),
        ("\"unterminated", "unterminated string at byte 14"),
    ])
    func invalid(text: String, message: String) {
        let error = #expect(throws: JSONParser.ParseError.self) { try parse(text) }
        #expect(error?.description == message)
    }

    @Test("an error inside a member of the top-level object names that member; deeper keys and other roots name none")
    func topLevelKey() throws {
        func failure(_ text: String) -> JSONParser.ParseError? { #expect(throws: JSONParser.ParseError.self) { try parse(text) } }
        let inPayload = failure(#"{"type": "a", "payload": {"x": [1, 1e-400]}}"#)
        #expect(inPayload?.topLevelKey == "payload")
        #expect(inPayload?.description == "number too close to zero to represent at byte 36")
        #expect(failure(#"{"type": "a", "priority": 9223372036854775808}"#)?.topLevelKey == "priority")
        #expect(failure(#"{"payload": {"k": 1, "k": 2}}"#)?.topLevelKey == "payload")
        #expect(failure(#"{"type": "a", "type": "b"}"#)?.topLevelKey == nil)  // the object itself, not a member's value
        #expect(failure(#"{"type": "a",}"#)?.topLevelKey == nil)
        #expect(failure(#"[{"payload": 1e-400}]"#)?.topLevelKey == nil)
    }

    @Test("nesting past the limit is refused without recursion trouble")
    func depth() throws {
        #expect(throws: Never.self) { try parse(String(repeating: "[", count: 256) + String(repeating: "]", count: 256)) }
        let error = #expect(throws: JSONParser.ParseError.self) { try parse(String(repeating: "[", count: 100_000)) }
        #expect(error?.message == "nesting deeper than 256 levels")
    }

    /// Strings are scanned eight bytes at a time: a quote, a backslash or a control character
    /// must be found at every position of a word, beside any other byte, in keys, top-level
    /// values and encoded payload members alike.
    @Test("a string's end, escapes and control characters are found at every position of a word")
    func stringBoundariesAtEveryPosition() throws {
        for length in 0...19 {
            for position in 0..<max(1, length) {
                for filler in ["a", "é", "~"] {
                    var plain = Array(repeating: filler, count: length)
                    let text = plain.joined()
                    #expect(try parse("{\"\(text)\":\"\(text)\"}") == .object([text: .string(text)]))
                    guard length > 0 else { continue }
                    plain[position] = #"\""#
                    let escaped = plain.joined()
                    let unescaped = escaped.replacingOccurrences(of: #"\""#, with: "\"")
                    #expect(try parse("{\"\(escaped)\":\"\(escaped)\"}") == .object([unescaped: .string(unescaped)]))
                    plain[position] = "\u{1F}"
                    let control = plain.joined()
                    let line = "{\"type\":\"t\",\"payload\":{\"k\":\"\(control)\"}}"
                    let offset = Array("{\"type\":\"t\",\"payload\":{\"k\":\"".utf8).count + Array(plain[..<position].joined().utf8).count
                    let error = #expect(throws: JSONParser.ParseError.self) {
                        try Array(line.utf8).withUnsafeBufferPointer { try JSONParser.parse($0, encodingMember: "payload") }
                    }
                    #expect(error?.message == "control character in a string" && error?.offset == offset, "\(length) \(position) \(filler)")
                    // In a key, and in a value the tree parser builds, the same byte is refused at the same place.
                    let controlOffset = Array(plain[..<position].joined().utf8).count
                    for (text, prefix) in [("{\"\(control)\":1}", "{\""), ("{\"k\":\"\(control)\"}", "{\"k\":\"")] {
                        let treeError = #expect(throws: JSONParser.ParseError.self) { try parse(text) }
                        #expect(treeError?.offset == Array(prefix.utf8).count + controlOffset, "\(text.debugDescription)")
                    }
                    let encoded = try Array("{\"type\":\"t\",\"payload\":{\"k\":\"\(escaped)\"}}".utf8).withUnsafeBufferPointer {
                        try JSONParser.parse($0, encodingMember: "payload")
                    }
                    #expect(encoded.encoded.flatMap { try? EncodedPayload(validating: $0).value } == .object(["k": .string(unescaped)]))
                }
            }
        }
    }

    @Test("agrees with Foundation's JSONSerialization on a mixed document")
    func agreesWithFoundation() throws {
        let text = #"{"type":"http.request","priority":3,"payload":{"path":"/api","status":503,"latency":12.75,"tags":["a","b"],"ok":false,"n":null,"text":"Je veux être remboursé €"}}"#
        let ours = try parse(text)
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(ours["type"]?.stringValue == theirs?["type"] as? String)
        let payload = theirs?["payload"] as? [String: Any]
        #expect(ours["payload"]?["text"]?.stringValue == payload?["text"] as? String)
        #expect(ours["payload"]?["latency"]?.doubleValue == payload?["latency"] as? Double)
        #expect(ours["payload"]?["status"] == .int(503))
    }
}
