import Glibc
import SymphonyJSON

/// An event's payload kept as the bytes of its body encoding (`EventBodyCodec`'s `value`) and
/// read in place: a field lookup walks the bytes and builds only the value it returns, so an
/// event opened from the queue costs one copy of its bytes instead of a tree of dictionaries,
/// arrays and strings.
///
/// The bytes are checked once, when the value is made (`init(validating:)`): tags, lengths and
/// nesting depth, as the tree decoder checks them. Object members are matched as `JSONValue`'s
/// dictionaries match keys (Unicode canonical equivalence; the last of equal keys wins).
public struct EncodedPayload: Sendable {
    /// One encoded value.
    public let bytes: [UInt8]

    /// Checks that `bytes` hold exactly one encoded value no deeper than `EventBodyCodec.maximumDepth`.
    /// Throws `malformedEventBody` otherwise.
    public init(validating bytes: [UInt8]) throws {
        let end = try bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(buffer)
            try cursor.skipValue(depth: 0)
            return cursor.offset
        }
        guard end == bytes.count else {
            throw EventsError(.malformedEventBody, "The event body has trailing bytes.")
        }
        self.bytes = bytes
    }

    /// The payload as a tree (built anew on every call).
    public var value: JSONValue {
        bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(buffer)
            return cursor.readValue()
        }
    }

    /// The value at `segments` (object members by name; array elements by whole number, negative
    /// from the end), as `JSONValue.child` steps through a tree; nil when a step is missing.
    public func value(at segments: ArraySlice<String>) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(buffer)
            for segment in segments {
                guard cursor.step(into: segment) else { return nil }
            }
            return cursor.readValue()
        }
    }

    /// Calls `body` with the UTF-8 bytes, in place, of the string at `segments`; nil (and `body`
    /// is not called) when a step is missing or the value there is not a string.
    public func withString<Result>(at segments: ArraySlice<String>, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        try bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(buffer)
            for segment in segments {
                guard cursor.step(into: segment) else { return nil }
            }
            guard buffer[cursor.offset] == 5 else { return nil }
            cursor.offset += 1
            let count = Int(cursor.uint32())
            return try body(UnsafeBufferPointer(rebasing: buffer[cursor.offset..<cursor.offset + count]))
        }
    }

    /// Bytes written by `Builder`, which writes only well-formed values: no check needed.
    private init(written bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Appends `value`, a node at nesting `depth` (0 for a payload itself), to `bytes` in the
    /// body encoding; returns the deepest nesting of any node written.
    @discardableResult
    package static func write(_ value: JSONValue, depth: Int, into bytes: inout [UInt8]) -> Int {
        switch value {
        case .null: bytes.append(0)
        case .bool(let flag): bytes.append(flag ? 2 : 1)
        case .int(let number):
            bytes.append(3)
            appendBigEndian(UInt64(bitPattern: number), to: &bytes)
        case .double(let number):
            bytes.append(4)
            appendBigEndian(number.bitPattern, to: &bytes)
        case .string(let text):
            bytes.append(5)
            appendString(text, to: &bytes)
        case .array(let elements):
            bytes.append(6)
            appendCount(elements.count, to: &bytes)
            var deepest = depth
            for element in elements { deepest = max(deepest, write(element, depth: depth + 1, into: &bytes)) }
            return deepest
        case .object(let members):
            bytes.append(7)
            appendCount(members.count, to: &bytes)
            var deepest = depth
            for (key, member) in members {
                appendString(key, to: &bytes)
                deepest = max(deepest, write(member, depth: depth + 1, into: &bytes))
            }
            return deepest
        }
        return depth
    }

    static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func appendCount(_ count: Int, to bytes: inout [UInt8]) {
        let value = UInt32(truncatingIfNeeded: count)
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            appendCount(utf8.count, to: &bytes)
            bytes.append(contentsOf: utf8)
        }
    }

    /// Writes a payload piece by piece in the body encoding, as a rule's template renders a derived
    /// event's payload: no tree is built, and the event is sealed by copying these bytes.
    ///
    /// Within the package only: the counts given to `beginObject` and `beginArray` must match what
    /// follows, and what it builds is read without bounds checks (it is checked in debug builds).
    package struct Builder {
        private var bytes: [UInt8] = []
        /// The deepest nesting of any value written (0 for a payload without arrays or objects in it).
        package private(set) var deepest = 0

        /// An empty builder.
        package init() {
            bytes.reserveCapacity(128)
        }

        /// Appends `value` as a node at nesting `depth`.
        package mutating func append(_ value: JSONValue, depth: Int) {
            deepest = max(deepest, EncodedPayload.write(value, depth: depth, into: &bytes))
        }

        /// Starts an object of `count` members at nesting `depth`: then `key` and a value, `count` times.
        package mutating func beginObject(count: Int, depth: Int) {
            bytes.append(7)
            EncodedPayload.appendCount(count, to: &bytes)
            deepest = max(deepest, depth)
        }

        /// Starts an array of `count` elements at nesting `depth`: then `count` values.
        package mutating func beginArray(count: Int, depth: Int) {
            bytes.append(6)
            EncodedPayload.appendCount(count, to: &bytes)
            deepest = max(deepest, depth)
        }

        /// A member's name, before its value.
        package mutating func key(_ name: String) {
            EncodedPayload.appendString(name, to: &bytes)
        }

        /// The payload written (exactly one value must have been written, counts matching).
        package func build() -> EncodedPayload {
            assert((try? EncodedPayload(validating: bytes)) != nil, "a Builder wrote counts that do not match its values")
            return EncodedPayload(written: bytes)
        }
    }

    /// A reader over validated bytes (only `skipValue` checks bounds: every other read follows it).
    private struct Cursor {
        let buffer: UnsafeBufferPointer<UInt8>
        var offset = 0

        init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

        // MARK: Checking

        mutating func need(_ count: Int) throws {
            guard count >= 0, buffer.count - offset >= count else {
                throw EventsError(.malformedEventBody, "The event body ends too early.")
            }
        }

        mutating func skipValue(depth: Int) throws {
            guard depth <= EventBodyCodec.maximumDepth else {
                throw EventsError(.malformedEventBody, "The event body nests deeper than \(EventBodyCodec.maximumDepth) levels.")
            }
            try need(1)
            let tag = buffer[offset]
            offset += 1
            switch tag {
            case 0, 1, 2: return
            case 3, 4:
                try need(8)
                offset += 8
            case 5:
                try need(4)
                let count = Int(uint32())
                try need(count)
                offset += count
            case 6:
                try need(4)
                let count = Int(uint32())
                try need(count)  // every element takes at least one byte
                for _ in 0..<count { try skipValue(depth: depth + 1) }
            case 7:
                try need(4)
                let count = Int(uint32())
                try need(count * 5)  // every member takes at least five bytes
                for _ in 0..<count {
                    try need(4)
                    let keyCount = Int(uint32())
                    try need(keyCount)
                    offset += keyCount
                    try skipValue(depth: depth + 1)
                }
            default:
                throw EventsError(.malformedEventBody, "The event body holds an unknown value tag.")
            }
        }

        // MARK: Reading validated bytes

        mutating func uint32() -> UInt32 {
            let value = UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16 | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3])
            offset += 4
            return value
        }

        mutating func uint64() -> UInt64 {
            var value: UInt64 = 0
            for index in offset..<offset + 8 { value = value << 8 | UInt64(buffer[index]) }
            offset += 8
            return value
        }

        /// Skips a value already validated.
        mutating func skip() {
            let tag = buffer[offset]
            offset += 1
            switch tag {
            case 3, 4: offset += 8
            case 5: offset += Int(uint32())
            case 6:
                let count = Int(uint32())
                for _ in 0..<count { skip() }
            case 7:
                let count = Int(uint32())
                for _ in 0..<count {
                    offset += Int(uint32())
                    skip()
                }
            default: return
            }
        }

        mutating func string() -> String {
            let count = Int(uint32())
            defer { offset += count }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[offset..<offset + count]), as: UTF8.self)
        }

        mutating func readValue() -> JSONValue {
            let tag = buffer[offset]
            offset += 1
            switch tag {
            case 0: return .null
            case 1: return .bool(false)
            case 2: return .bool(true)
            case 3: return .int(Int64(bitPattern: uint64()))
            case 4: return .double(Double(bitPattern: uint64()))
            case 5: return .string(string())
            case 6:
                let count = Int(uint32())
                var elements: [JSONValue] = []
                elements.reserveCapacity(count)
                for _ in 0..<count { elements.append(readValue()) }
                return .array(elements)
            default:
                let count = Int(uint32())
                var members: [String: JSONValue] = [:]
                members.reserveCapacity(count)
                for _ in 0..<count {
                    let key = string()
                    members[key] = readValue()
                }
                return .object(members)
            }
        }

        /// Moves to the member or element `segment` of the value here; false when there is none.
        mutating func step(into segment: String) -> Bool {
            let tag = buffer[offset]
            switch tag {
            case 7:
                offset += 1
                let count = Int(uint32())
                var found: Int?
                var segment = segment
                segment.withUTF8 { wanted in
                    for _ in 0..<count {
                        let keyCount = Int(uint32())
                        let key = UnsafeBufferPointer(rebasing: buffer[offset..<offset + keyCount])
                        offset += keyCount
                        if Self.sameKey(key, wanted) { found = offset }
                        skip()
                    }
                }
                guard let found else { return false }
                offset = found
                return true
            case 6:
                offset += 1
                let count = Int(uint32())
                guard let index = Int(segment) else { return false }
                let position = index < 0 ? count + index : index
                guard position >= 0, position < count else { return false }
                for _ in 0..<position { skip() }
                return true
            default:
                return false
            }
        }

        /// Whether two keys are equal as `String`s are: byte for byte, or, when either holds
        /// non-ASCII bytes, by canonical equivalence (what a dictionary of the tree would do).
        static func sameKey(_ key: UnsafeBufferPointer<UInt8>, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
            if key.count == wanted.count && (key.count == 0 || memcmp(key.baseAddress!, wanted.baseAddress!, key.count) == 0) { return true }
            guard key.contains(where: { $0 >= 0x80 }) || wanted.contains(where: { $0 >= 0x80 }) else { return false }
            return String(decoding: key, as: UTF8.self) == String(decoding: wanted, as: UTF8.self)
        }
    }
}
