import SymphonyJSON
import SymphonyEvents

/// libFuzzer entry point for the event decoders: any bytes must decode or be refused — never crash.
/// Exercises `EventBodyCodec.decode` (what opened envelopes and stored payloads go through) and
/// `JSONParser` (what input lines go through; what it accepts must print and parse back to the
/// same value). Built and run by `make fuzz`; libFuzzer provides `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func eventDecoderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let event = try? EventBodyCodec.decode(bytes, id: "fuzz", type: "fuzz.event", priority: 5) {
        // Whatever decodes must encode and decode to the same event.
        let again = try? EventBodyCodec.decode(EventBodyCodec.encode(event), id: "fuzz", type: "fuzz.event", priority: 5)
        precondition(
            again.map { identical($0.payload, event.payload) && $0.time == event.time && $0.source == event.source && $0.causation == event.causation } == true,
            "EventBodyCodec round trip changed a decoded event")
    }
    if String(validating: bytes, as: UTF8.self) != nil, let value = try? JSONParser.parse(bytes) {
        let reparsed = try? JSONParser.parse(Array(value.jsonText.utf8))
        precondition(reparsed == value, "JSONParser: printing a parsed value and parsing it again changed it")  // == : JSON has no NaN, and -0.0 prints as 0.0
    }
    return 0
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
