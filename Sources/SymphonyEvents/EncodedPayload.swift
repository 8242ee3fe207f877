import SymphonyCrypto
import SymphonyJSON

/// An event's payload kept as the bytes of its body encoding (`BinaryValueEncoding`) and
/// read in place: a field lookup walks the bytes and builds only the value it returns, so an
/// event opened from the queue costs one copy of its bytes instead of a tree of dictionaries,
/// arrays and strings.
///
/// The bytes are checked once, when the value is made (`init(validating:)`): tags, lengths and
/// nesting depth, as the tree decoder checks them. Bytes this process wrote (the JSON parser's,
/// a `Builder`'s, and those of an envelope only this process could seal) were well formed when
/// written and are not checked again. Object members are matched as `JSONValue`'s
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

    /// Appends the payload as compact JSON to `writer`, exactly as `value.jsonText` would print it
    /// (keys sorted), without building the tree — except for an object with a non-ASCII key,
    /// which is built to order its keys as Strings order.
    public func writeJSON(to writer: inout JSONWriter) {
        bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(buffer)
            cursor.writeJSON(to: &writer)
        }
    }

    /// The value at `segments` (object members by name; array elements by whole number, negative
    /// from the end), as `JSONValue.child` steps through a tree; nil when a step is missing.
    public func value(at segments: ArraySlice<String>) -> JSONValue? {
        withCursor(at: segments) { cursor in cursor.readValue() }
    }

    /// Calls `body` with the UTF-8 bytes, in place, of the string at `segments`; nil (and `body`
    /// is not called) when a step is missing or the value there is not a string.
    /// (Inlinable, with the cursor it uses: rule conditions call it for every field they test, and
    /// an unspecialized generic call looked up type metadata each time.)
    @inlinable
    public func withString<Result>(at segments: ArraySlice<String>, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        try withCursor(at: segments) { cursor in
            guard cursor.buffer[cursor.offset] == BinaryValueEncoding.string else { return nil }
            cursor.offset += 1
            let count = Int(cursor.uint32())
            return try body(UnsafeBufferPointer(rebasing: cursor.buffer[cursor.offset..<cursor.offset + count]))
        }
    }

    /// `body` with a cursor at the value `segments` lead to; nil when a step is missing.
    @inlinable
    func withCursor<Result>(at segments: ArraySlice<String>, _ body: (inout Cursor) throws -> Result?) rethrows -> Result? {
        try bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(buffer)
            for segment in segments {
                guard cursor.step(into: segment) else { return nil }
            }
            return try body(&cursor)
        }
    }

    /// Bytes known to be well formed and no deeper than the codec's limit, so not checked again:
    /// those `JSONParser.parseRoot(_:encodingMember:)` wrote for an object member (the parser's
    /// limit is the codec's), those a `Builder` wrote, and those of a payload this process sealed
    /// and opened again (`EventBodyCodec.decode(…trustingPayload:)`: the envelope proved them
    /// unchanged).
    package init(wellFormed bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Appends `value`, a node at nesting `depth` (0 for a payload itself), to `bytes` in the
    /// body encoding; returns the deepest nesting of any node written.
    @discardableResult
    package static func write(_ value: JSONValue, depth: Int, into bytes: inout [UInt8]) -> Int {
        switch value {
        case .null: bytes.append(BinaryValueEncoding.null)
        case .bool(let flag): bytes.append(flag ? BinaryValueEncoding.true : BinaryValueEncoding.false)
        case .int(let number):
            bytes.append(BinaryValueEncoding.int)
            BigEndianBytes.append(UInt64(bitPattern: number), to: &bytes)
        case .double(let number):
            bytes.append(BinaryValueEncoding.double)
            BigEndianBytes.append(number.bitPattern, to: &bytes)
        case .string(let text):
            bytes.append(BinaryValueEncoding.string)
            BigEndianBytes.appendLengthPrefixed(text, to: &bytes)
        case .array(let elements):
            bytes.append(BinaryValueEncoding.array)
            BigEndianBytes.append(UInt32(truncatingIfNeeded: elements.count), to: &bytes)
            var deepest = depth
            for element in elements { deepest = max(deepest, write(element, depth: depth + 1, into: &bytes)) }
            return deepest
        case .object(let members):
            bytes.append(BinaryValueEncoding.object)
            BigEndianBytes.append(UInt32(truncatingIfNeeded: members.count), to: &bytes)
            var deepest = depth
            for (key, member) in members {
                BigEndianBytes.appendLengthPrefixed(key, to: &bytes)
                deepest = max(deepest, write(member, depth: depth + 1, into: &bytes))
            }
            return deepest
        }
        return depth
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
            bytes.append(BinaryValueEncoding.object)
            BigEndianBytes.append(UInt32(truncatingIfNeeded: count), to: &bytes)
            deepest = max(deepest, depth)
        }

        /// Starts an array of `count` elements at nesting `depth`: then `count` values.
        package mutating func beginArray(count: Int, depth: Int) {
            bytes.append(BinaryValueEncoding.array)
            BigEndianBytes.append(UInt32(truncatingIfNeeded: count), to: &bytes)
            deepest = max(deepest, depth)
        }

        /// A member's name, before its value.
        package mutating func key(_ name: String) {
            BigEndianBytes.appendLengthPrefixed(name, to: &bytes)
        }

        /// The payload written (exactly one value must have been written, counts matching).
        package func build() -> EncodedPayload {
            assert((try? EncodedPayload(validating: bytes)) != nil, "a Builder wrote counts that do not match its values")
            return EncodedPayload(wellFormed: bytes)
        }
    }

    /// A reader over validated bytes (only `skipValue` checks bounds: every other read follows it).
    @usableFromInline
    struct Cursor {
        @usableFromInline let buffer: UnsafeBufferPointer<UInt8>
        @usableFromInline var offset = 0

        @inlinable
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
            case BinaryValueEncoding.null, BinaryValueEncoding.false, BinaryValueEncoding.true: return
            case BinaryValueEncoding.int, BinaryValueEncoding.double:
                try need(8)
                offset += 8
            case BinaryValueEncoding.string:
                try need(4)
                let count = Int(uint32())
                try need(count)
                offset += count
            case BinaryValueEncoding.array:
                try need(4)
                let count = Int(uint32())
                try need(count)  // every element takes at least one byte
                for _ in 0..<count { try skipValue(depth: depth + 1) }
            case BinaryValueEncoding.object:
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

        @inlinable
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
        @inlinable
        mutating func skip() {
            let tag = buffer[offset]
            offset += 1
            switch tag {
            case BinaryValueEncoding.int, BinaryValueEncoding.double: offset += 8
            case BinaryValueEncoding.string: offset += Int(uint32())
            case BinaryValueEncoding.array:
                let count = Int(uint32())
                for _ in 0..<count { skip() }
            case BinaryValueEncoding.object:
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
            case BinaryValueEncoding.null: return .null
            case BinaryValueEncoding.false: return .bool(false)
            case BinaryValueEncoding.true: return .bool(true)
            case BinaryValueEncoding.int: return .int(Int64(bitPattern: uint64()))
            case BinaryValueEncoding.double: return .double(Double(bitPattern: uint64()))
            case BinaryValueEncoding.string: return .string(string())
            case BinaryValueEncoding.array:
                let count = Int(uint32())
                var elements: [JSONValue] = []
                elements.reserveCapacity(count)
                for _ in 0..<count { elements.append(readValue()) }
                return .array(elements)
            default:  // BinaryValueEncoding.object: the bytes were validated
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

        /// Writes the value here as JSON (see `EncodedPayload.writeJSON(to:)`) and moves past it.
        mutating func writeJSON(to writer: inout JSONWriter) {
            let tag = buffer[offset]
            switch tag {
            case BinaryValueEncoding.null: writer.raw("null")
            case BinaryValueEncoding.false: writer.raw("false")
            case BinaryValueEncoding.true: writer.raw("true")
            case BinaryValueEncoding.int:
                offset += 1
                writer.int(Int64(bitPattern: uint64()))
                return
            case BinaryValueEncoding.double:
                offset += 1
                writer.double(Double(bitPattern: uint64()))
                return
            case BinaryValueEncoding.string:
                offset += 1
                let count = Int(uint32())
                let text = UnsafeBufferPointer(rebasing: buffer[offset..<offset + count])
                offset += count
                if ByteScan.isASCII(text) {
                    writer.string(validUTF8: text)
                } else {
                    writer.string(String(decoding: text, as: UTF8.self))  // repairs invalid UTF-8 as reading does
                }
                return
            case BinaryValueEncoding.array:
                offset += 1
                let count = Int(uint32())
                writer.byte(UInt8(ascii: "["))
                for index in 0..<count {
                    if index > 0 { writer.byte(UInt8(ascii: ",")) }
                    writeJSON(to: &writer)
                }
                writer.byte(UInt8(ascii: "]"))
                return
            default:  // BinaryValueEncoding.object
                writeObjectJSON(to: &writer)
                return
            }
            offset += 1
        }

        /// Writes the object here with its keys in sorted order (the last of equal keys wins, as in a tree).
        private mutating func writeObjectJSON(to writer: inout JSONWriter) {
            let start = offset
            offset += 1
            let count = Int(uint32())
            // Each member: where its key's bytes are, and where its value starts.
            var members: [(key: Range<Int>, value: Int)] = []
            members.reserveCapacity(count)
            var asciiKeys = true
            for _ in 0..<count {
                let keyCount = Int(uint32())
                let key = offset..<offset + keyCount
                offset += keyCount
                if asciiKeys && !ByteScan.isASCII(UnsafeBufferPointer(rebasing: buffer[key])) { asciiKeys = false }
                members.append((key, offset))
                skip()
            }
            guard asciiKeys else {
                // Non-ASCII keys: order and merge them as String keys do.
                let end = offset
                offset = start
                writer.value(readValue())
                offset = end
                return
            }
            let end = offset
            let buffer = buffer
            // Byte order is String order for ASCII; equal keys stay in their order, so the last is kept.
            members.sort { lhs, rhs in
                buffer[lhs.key].elementsEqual(buffer[rhs.key])
                    ? lhs.value < rhs.value : buffer[lhs.key].lexicographicallyPrecedes(buffer[rhs.key])
            }
            writer.byte(UInt8(ascii: "{"))
            var written = 0
            for (index, member) in members.enumerated() {
                if index + 1 < members.count && buffer[member.key].elementsEqual(buffer[members[index + 1].key]) { continue }
                if written > 0 { writer.byte(UInt8(ascii: ",")) }
                written += 1
                writer.string(validUTF8: UnsafeBufferPointer(rebasing: buffer[member.key]))
                writer.byte(UInt8(ascii: ":"))
                offset = member.value
                writeJSON(to: &writer)
            }
            writer.byte(UInt8(ascii: "}"))
            offset = end
        }


        /// Moves to the member or element `segment` of the value here; false when there is none.
        @inlinable
        mutating func step(into segment: String) -> Bool {
            let tag = buffer[offset]
            switch tag {
            case BinaryValueEncoding.object:
                offset += 1
                let count = Int(uint32())
                var found: Int?
                var segment = segment
                segment.withUTF8 { wanted in
                    let wantedIsASCII = ByteScan.isASCII(wanted)
                    for _ in 0..<count {
                        let keyCount = Int(uint32())
                        let key = UnsafeBufferPointer(rebasing: buffer[offset..<offset + keyCount])
                        offset += keyCount
                        // A key with other bytes matches an ASCII one only if it is longer: the
                        // non-ASCII equivalents of ASCII characters are longer singletons (U+212A
                        // KELVIN SIGN for K), so shorter keys need no scan.
                        if wantedIsASCII && keyCount <= wanted.count {
                            if BinaryValueEncoding.sameKey(key, isASCII: true, wanted, isASCII: true) { found = offset }
                        } else if wantedIsASCII && (wanted.isEmpty || key[0] < 0x80 && key[0] != wanted[0]) {
                            // A longer key that starts with another ASCII character is another key:
                            // an ASCII character keeps its place in the canonical form, and one
                            // composed with marks after it is no longer ASCII. (No scan of it.)
                        } else if BinaryValueEncoding.sameKey(key, isASCII: ByteScan.isASCII(key), wanted, isASCII: wantedIsASCII) {
                            found = offset
                        }
                        skip()
                    }
                }
                guard let found else { return false }
                offset = found
                return true
            case BinaryValueEncoding.array:
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
    }
}
