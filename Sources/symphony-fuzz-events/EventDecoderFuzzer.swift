import SymphonyJSON
import SymphonyEvents

/// libFuzzer entry point for the event decoders: any bytes must decode or be refused — never crash.
/// Exercises `EventBodyCodec.decode` (what opened envelopes and stored payloads go through: a
/// payload it keeps encoded must read, in place, as its tree does, and encode from its tree to the
/// same tree) and `JSONParser` (what input lines go through; what it accepts must print and parse
/// back to the same value, and parsing with the payload encoded must agree with parsing it as a
/// tree). Built and run by `make fuzz`; libFuzzer provides `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func eventDecoderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let event = try? EventBodyCodec.decode(bytes, id: "fuzz", type: "fuzz.event", priority: 5) {
        // Whatever decodes must encode and decode to the same event.
        let again = try? EventBodyCodec.decode(EventBodyCodec.encode(event), id: "fuzz", type: "fuzz.event", priority: 5)
        precondition(
            again.map { identical($0.payload, event.payload) && $0.time == event.time && $0.source == event.source && $0.causation == event.causation } == true,
            "EventBodyCodec round trip changed a decoded event")
        // Reading in place answers what the tree answers, on every path into the payload (to depth 3).
        let tree = event.payload
        for path in paths(in: tree) {
            var current: JSONValue? = tree
            for segment in path { current = current?.child(segment) }
            let inPlace = event.payloadValue(at: path[...])
            precondition(
                inPlace.map { found in current.map { identical(found, $0) } ?? false } ?? (current == nil),
                "EncodedPayload: a lookup in place differs from the tree's")
        }
        // Encoding the tree afresh gives a payload that reads back as the same tree.
        var rewritten: [UInt8] = []
        EncodedPayload.write(tree, depth: 0, into: &rewritten)
        precondition((try? EncodedPayload(validating: rewritten)).map { identical($0.value, tree) } == true, "EncodedPayload.write changed a payload")
    }
    if String(validating: bytes, as: UTF8.self) != nil {
        let tree = try? JSONParser.parse(bytes)
        if let tree {
            let reparsed = try? JSONParser.parse(Array(tree.jsonText.utf8))
            precondition(reparsed == tree, "JSONParser: printing a parsed value and parsing it again changed it")  // == : JSON has no NaN, and -0.0 prints as 0.0
        }
        // Parsing with the `payload` member encoded accepts and refuses what the tree parser does.
        let encoded = bytes.withUnsafeBufferPointer { try? JSONParser.parse($0, encodingMember: "payload") }
        precondition((tree == nil) == (encoded == nil), "JSONParser: encoding the payload changed what is accepted")
        if case .object(var members)? = tree, let encoded, case .object? = members["payload"] {
            let payload = members.removeValue(forKey: "payload")
            let decoded = encoded.encoded.flatMap { try? EncodedPayload(validating: $0).value }
            precondition(encoded.value == .object(members) && decoded == payload, "JSONParser: the encoded payload differs from the tree's")
        }
    }
    return 0
}

/// Every path into `value` of up to three steps, with steps that lead nowhere.
func paths(in value: JSONValue, prefix: [String] = []) -> [[String]] {
    var found = [prefix, prefix + ["missing"], prefix + ["-1"], prefix + ["7"]]
    guard prefix.count < 3 else { return found }
    switch value {
    case .object(let members): for (key, member) in members.prefix(8) { found += paths(in: member, prefix: prefix + [key]) }
    case .array(let elements): for (index, element) in elements.prefix(8).enumerated() { found += paths(in: element, prefix: prefix + [String(index)]) }
    default: break
    }
    return found
}

/// Equality that treats two NaNs with the same bits as equal (JSON values decoded from raw bits may be NaN).
func identical(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.double(let a), .double(let b)): a.bitPattern == b.bitPattern
    case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy(identical)
    case (.object(let a), .object(let b)): a.count == b.count && a.allSatisfy { key, value in b[key].map { identical(value, $0) } ?? false }
    default: lhs == rhs
    }
}

#if !FUZZING
    /// Without libFuzzer (a normal `swift build`), the target is a stub that says how to fuzz.
    @main
    enum FuzzerStub {
        static func main() {
            print("This is a libFuzzer target; run 'make fuzz' (swift build --sanitize=fuzzer -Xswiftc -DFUZZING).")
        }
    }
#endif
