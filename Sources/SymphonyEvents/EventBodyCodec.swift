import SymphonyJSON
import SymphonyCrypto

/// The binary encoding of an event's body: what an event envelope encrypts.
///
/// The id, type and priority travel beside the envelope (they are its associated data); the body
/// holds the rest. All integers are big-endian; a string is a u32 byte count and UTF-8 bytes.
/// ```
/// body    := u8 version (1) · i64 time (ns since epoch) · opt-str source · causation · value payload
/// opt-str := u8 0 | u8 1 · str
/// causation := u8 0 | u8 1 · str parent-id · str rule · u32 hop
/// value   := BinaryValueEncoding (SymphonyJSON)
/// ```
/// Object members are written in the dictionary's iteration order, which is not specified:
/// decoders must not depend on it.
public enum EventBodyCodec {
    /// The deepest nesting of arrays and objects the decoder accepts.
    public static let maximumDepth = JSONParser.maximumDepth
    static let version: UInt8 = 1

    /// Encodes everything but the id, type and priority of `event`.
    public static func encode(_ event: Event) -> [UInt8] {
        var bytes = room(for: event)
        encode(event, into: &bytes)
        return bytes
    }

    /// `encode(_:)` for an envelope (see `encodeForSealing(_:into:)`).
    static func encodeForSealing(_ event: Event) throws -> [UInt8] {
        var bytes = room(for: event)
        try encodeForSealing(event, into: &bytes)
        return bytes
    }

    /// An empty buffer with room for `event`'s body.
    private static func room(for event: Event) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + (event.encodedPayload?.bytes.count ?? 64))
        return bytes
    }

    /// Appends the encoding of everything but the id, type and priority of `event` to `bytes`.
    public static func encode(_ event: Event, into bytes: inout [UInt8]) {
        _ = append(event, to: &bytes)
    }

    /// `encode(_:into:)` for an envelope: throws `malformedEventBody` for a payload built as a
    /// tree that nests deeper than `maximumDepth`, which no decoder would open (a payload kept
    /// encoded was checked when it was made). The depth comes from writing the tree: no extra walk.
    static func encodeForSealing(_ event: Event, into bytes: inout [UInt8]) throws {
        guard append(event, to: &bytes) <= maximumDepth else {
            throw EventsError(.malformedEventBody, "The payload nests deeper than \(maximumDepth) levels.")
        }
    }

    /// `encode(_:into:)`; returns the deepest nesting of a tree payload written (0 for an encoded one).
    private static func append(_ event: Event, to bytes: inout [UInt8]) -> Int {
        var writer = Writer(bytes: bytes)
        bytes = []  // the writer holds the only reference, so appending does not copy
        defer { bytes = writer.bytes }
        writer.byte(version)
        writer.int64(event.time.nanosecondsSinceEpoch)
        if let source = event.source {
            writer.byte(1)
            writer.string(source)
        } else {
            writer.byte(0)
        }
        if let causation = event.causation {
            writer.byte(1)
            writer.string(causation.parentID)
            writer.string(causation.rule)
            writer.uint32(UInt32(clamping: causation.hop))
        } else {
            writer.byte(0)
        }
        if let encoded = event.encodedPayload {
            writer.bytes.append(contentsOf: encoded.bytes)
            return 0
        }
        return EncodedPayload.write(event.payload, depth: 0, into: &writer.bytes)
    }

    /// Rebuilds an event from its id, type, priority and encoded body.
    public static func decode(_ body: [UInt8], id: String, type: String, priority: Int) throws -> Event {
        try decode(body, in: body.indices, id: id, type: type, priority: priority)
    }

    /// Rebuilds an event from its id, type, priority and the encoded body at `range` of `bytes`
    /// (one of several bodies in a batch); bytes past the range are not read.
    public static func decode(_ bytes: [UInt8], in range: Range<Int>, id: String, type: String, priority: Int) throws -> Event {
        try decode(bytes, in: range, id: id, type: type, priority: priority, trustingPayload: false)
    }

    /// `decode(_:in:id:type:priority:)`, without checking the payload's bytes when
    /// `trustingPayload`: for a body from an envelope only this process could have sealed
    /// (`EnvelopeSealer.opensOnlyItsOwnEnvelopes`), whose payload was well formed when sealed.
    package static func decode(
        _ bytes: [UInt8], in range: Range<Int>, id: String, type: String, priority: Int, trustingPayload: Bool
    ) throws -> Event {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "the body's range lies outside its bytes")
        var reader = Reader(bytes: bytes, offset: range.lowerBound, end: range.upperBound)
        guard try reader.byte() == version else {
            throw EventsError(.malformedEventBody, "The event body has an unknown format version.")
        }
        let time = Timestamp(nanosecondsSinceEpoch: try reader.int64())
        let source: String? = try reader.byte() == 1 ? try reader.string() : nil
        var causation: Causation?
        if try reader.byte() == 1 {
            causation = Causation(parentID: try reader.string(), rule: try reader.string(), hop: Int(try reader.uint32()))
        }
        // The payload stays encoded (checked here), and is read in place by the rules.
        let payloadBytes = Array(bytes[reader.offset..<reader.end])
        let payload = trustingPayload ? EncodedPayload(wellFormed: payloadBytes) : try EncodedPayload(validating: payloadBytes)
        return Event(type: type, encodedPayload: payload, priority: priority, id: id, source: source, time: time, causation: causation)
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func byte(_ value: UInt8) { bytes.append(value) }

        mutating func uint32(_ value: UInt32) {
            BigEndianBytes.append(value, to: &bytes)
        }

        mutating func int64(_ value: Int64) {
            BigEndianBytes.append(UInt64(bitPattern: value), to: &bytes)
        }

        mutating func string(_ value: String) {
            BigEndianBytes.appendLengthPrefixed(value, to: &bytes)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let end: Int

        mutating func need(_ count: Int) throws {
            guard count >= 0, end - offset >= count else {
                throw EventsError(.malformedEventBody, "The event body ends too early.")
            }
        }

        mutating func byte() throws -> UInt8 {
            try need(1)
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func uint32() throws -> UInt32 {
            try need(4)
            var value: UInt32 = 0
            for index in offset..<offset + 4 { value = value << 8 | UInt32(bytes[index]) }
            offset += 4
            return value
        }

        mutating func int64() throws -> Int64 {
            try need(8)
            var value: UInt64 = 0
            for index in offset..<offset + 8 { value = value << 8 | UInt64(bytes[index]) }
            offset += 8
            return Int64(bitPattern: value)
        }

        mutating func string() throws -> String {
            let count = Int(try uint32())
            try need(count)
            defer { offset += count }
            return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
        }
    }
}
