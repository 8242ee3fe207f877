/// A strict RFC 8259 JSON parser into `JSONValue`, built for event lines: one pass over UTF-8
/// bytes, no Foundation, bounded nesting.
///
/// Integer literals become `.int` and must fit in 64 bits; other numbers become `.double` and
/// must be representable: too large for a Double, or not zero but so close to it that it would
/// read as 0 (`1e-400`), is an error. So are control characters in strings, lone surrogates in
/// `\u` escapes, trailing commas, anything after the top-level value, and a key repeated in one
/// object (refused, not resolved). The input must already be valid UTF-8 (string contents are not
/// re-validated).
public struct JSONParser {
    /// Why the bytes are not JSON, and where.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong.
        public let message: String
        /// The byte offset where it was found.
        public let offset: Int
        /// The key of the top-level object's member whose value holds the problem, when there is
        /// one (for an event line: which field). Not part of `description`: callers decide
        /// whether a key read from the input may be shown.
        public internal(set) var topLevelKey: String?
        public var description: String { "\(message) at byte \(offset + 1)" }

        init(message: String, offset: Int) {
            self.message = message
            self.offset = offset
        }

        /// A key repeated in one object, at the repeat's offset.
        static func repeatedKey(at offset: Int) -> ParseError { ParseError(message: "a key appears twice in one object", offset: offset) }
    }

    /// The deepest nesting of arrays and objects accepted (an event body's limit, `EventBodyCodec.maximumDepth`).
    public static let maximumDepth = 256

    /// Parses one JSON value that must span all of `bytes` (surrounding white space allowed).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// Parses `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
        let result: Result<JSONValue, ParseError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(ParseError) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON value that must span all of `bytes`, as `parse` does, except that when it
    /// is an object whose member `encodedMember` is an object, that member is not built as a
    /// tree: it is left out of the returned object and written in `BinaryValueEncoding` (an
    /// event body's payload encoding) instead. What is accepted and every
    /// error (message, offset, top-level key) are exactly `parse`'s.
    public static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, encodingMember encodedMember: String
    ) throws(ParseError) -> (value: JSONValue, encoded: [UInt8]?) {
        switch try parseRoot(bytes, encodingMember: encodedMember) {
        case .object(let members, let encoded): return (.object(Dictionary(uniqueKeysWithValues: members)), encoded)
        case .other(let value): return (value, nil)
        }
    }

    /// A root value as `parseRoot(_:encodingMember:)` reads it.
    public enum Root {
        /// An object: its members in the order written, without the encoded member, and that
        /// member's bytes when it was an object.
        case object(members: [(key: String, value: JSONValue)], encoded: [UInt8]?)
        /// Any other value.
        case other(JSONValue)
    }

    /// `parse(_:encodingMember:)`, with a root object's members as a list in the order written
    /// instead of a dictionary (an event line reads its few members once: hashing them is waste).
    /// Accepts, refuses and reports exactly as `parse` does; the keys are distinct.
    public static func parseRoot(_ bytes: UnsafeBufferPointer<UInt8>, encodingMember encodedMember: String) throws(ParseError) -> Root {
        var parser = JSONParser(bytes: bytes)
        parser.encodedMember = encodedMember
        parser.skipWhitespace()
        let root: Root
        if parser.current == UInt8(ascii: "{") {
            var members = MemberList()
            try parser.members(depth: 1, into: &members)
            if parser.encodedMemberFound { members.list.removeAll { $0.key == encodedMember } }
            root = .object(members: members.list, encoded: parser.encodedMemberFound ? parser.output.take() : nil)
        } else {
            root = .other(try parser.value(depth: 0))
        }
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return root
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0
    /// The root object's member written encoded into `output` instead of built (`parse(_:encodingMember:)`).
    private var encodedMember: String?
    private var encodedMemberFound = false
    /// The encoded member's bytes.
    private var output = EncodedOutput()
    /// The keys of the objects being encoded, innermost last: where each key's bytes start in `output`, and their count.
    private var encodedKeys: [EncodedKey] = []

    /// A key written in `output`: where its bytes start, their count, and whether they are all ASCII.
    private typealias EncodedKey = (start: Int, count: Int, isASCII: Bool)

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private func error(_ message: String) -> ParseError { ParseError(message: message, offset: offset) }

    private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    /// Moves to the first byte that ends a string's run of plain bytes: a quote, a backslash or a
    /// control character (or the end). String contents are most of a line: scanned a word at a time.
    private mutating func skipPlainStringBytes() {
        offset = ByteScan.firstStringDelimiter(in: bytes, from: offset)
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(ParseError) -> JSONValue {
        guard let byte = current else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(ParseError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - offset >= count else { throw error("unexpected end of input") }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] { throw error("unexpected character") }
        offset += count
    }

    /// Where `members(depth:into:)` puts an object's members.
    private protocol MemberCollector {
        /// Adds a member, or throws when `key` is one already added (the same `String`).
        mutating func add(_ key: String, _ value: JSONValue, keyOffset: Int) throws(ParseError)
    }

    /// The members as a dictionary: what a `JSONValue` object holds.
    private struct MemberDictionary: MemberCollector {
        // Room for the usual handful of members up front: growing 1 → 2 → 4 → 8 rehashed every key each time.
        var members = [String: JSONValue](minimumCapacity: 8)

        mutating func add(_ key: String, _ value: JSONValue, keyOffset: Int) throws(ParseError) {
            guard members.updateValue(value, forKey: key) == nil else { throw ParseError.repeatedKey(at: keyOffset) }
        }
    }

    /// The members in the order written, compared one by one while few, then through a set.
    private struct MemberList: MemberCollector {
        var list: [(key: String, value: JSONValue)] = []
        var keys: Set<String> = []

        init() { list.reserveCapacity(8) }

        mutating func add(_ key: String, _ value: JSONValue, keyOffset: Int) throws(ParseError) {
            if list.count < JSONParser.keysComparedOneByOne {
                if list.contains(where: { $0.key == key }) { throw ParseError.repeatedKey(at: keyOffset) }
            } else {
                if list.count == JSONParser.keysComparedOneByOne { keys = Set(list.map(\.key)) }
                if !keys.insert(key).inserted { throw ParseError.repeatedKey(at: keyOffset) }
            }
            list.append((key, value))
        }
    }

    private mutating func object(depth: Int) throws(ParseError) -> JSONValue {
        var members = MemberDictionary()
        try self.members(depth: depth, into: &members)
        return .object(members.members)
    }

    /// Reads the object here (its `{` is current) into `collector`; the encoded member, if found,
    /// goes in as `null` (so that a repeat of it is still refused), for the caller to remove.
    private mutating func members<Collector: MemberCollector>(depth: Int, into collector: inout Collector) throws(ParseError) {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        offset += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            offset += 1
            return
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = offset
            let key = try string()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            offset += 1
            skipWhitespace()
            let member: JSONValue
            do {
                if depth == 1, let encodedMember, current == UInt8(ascii: "{"), key == encodedMember {
                    output.reserve(bytes.count)
                    try encodeObject(depth: depth + 1)
                    encodedMemberFound = true
                    member = .null  // a stand-in, so that a repeated key is still refused; the caller removes it
                } else {
                    member = try value(depth: depth)
                }
            } catch {
                var error = error
                if depth == 1 { error.topLevelKey = key }  // the root object (depth 1): name its member
                throw error
            }
            // A repeated key is refused, not resolved: readers that keep the first and readers that
            // keep the last would disagree about the event (its type, its source — its principal).
            try collector.add(key, member, keyOffset: keyOffset)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return
            default: throw error("expected ',' or '}'")
            }
        }
    }

    // MARK: - Encoding instead of building

    /// Writes the value here in the binary encoding (checked as `value(depth:)` checks it).
    private mutating func encodeValue(depth: Int) throws(ParseError) {
        guard let byte = current else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): try encodeObject(depth: depth + 1)
        case UInt8(ascii: "["): try encodeArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            output.append(BinaryValueEncoding.string)
            try encodeString()
        case UInt8(ascii: "t"):
            try literal("true")
            output.append(BinaryValueEncoding.true)
        case UInt8(ascii: "f"):
            try literal("false")
            output.append(BinaryValueEncoding.false)
        case UInt8(ascii: "n"):
            try literal("null")
            output.append(BinaryValueEncoding.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            switch try number() {
            case .int(let integer):
                output.append(BinaryValueEncoding.int)
                appendBigEndian(UInt64(bitPattern: integer))
            case .double(let double):
                output.append(BinaryValueEncoding.double)
                appendBigEndian(double.bitPattern)
            default: break  // number() returns only those two
            }
        default: throw error("unexpected character")
        }
    }

    private mutating func appendBigEndian(_ value: UInt64) {
        output.appendBigEndian(value)
    }

    /// Four bytes for a count written later by `patchCount`.
    private mutating func appendCountPlaceholder() {
        output.appendCountPlaceholder()
    }

    /// Writes `count` as a big-endian u32 at `position`, into the placeholder `appendCountPlaceholder` left.
    private mutating func patchCount(at position: Int, _ count: Int) {
        output.patchCount(at: position, count)
    }

    /// Writes a string here as a u32 byte count and its UTF-8 bytes (escapes resolved as `string()` resolves them).
    private mutating func encodeString() throws(ParseError) {
        let countAt = output.count
        appendCountPlaceholder()
        offset += 1  // opening quote
        let start = offset
        skipPlainStringBytes()
        if offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                output.append(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
                offset += 1
                patchCount(at: countAt, output.count - countAt - 4)
                return
            }
            if byte < 0x20 { throw error("control character in a string") }
        }
        output.append(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        // The rest has escapes (rare): unescaped on its own, then appended.
        var rest: [UInt8] = []
        try unescapeRest(into: &rest)
        output.append(contentsOf: rest)
        patchCount(at: countAt, output.count - countAt - 4)
    }

    /// Opens an array or object at its bracket: checks the depth, writes the tag and
    /// room for the count. Returns where the count goes, or nil when the container is empty (then
    /// it is closed and complete: a count of 0).
    private mutating func beginContainer(tag: UInt8, closing: UInt8, depth: Int) throws(ParseError) -> Int? {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        offset += 1
        output.append(tag)
        let countAt = output.count
        appendCountPlaceholder()
        skipWhitespace()
        guard current != closing else {
            offset += 1
            return nil
        }
        return countAt
    }

    private mutating func encodeArray(depth: Int) throws(ParseError) {
        guard let countAt = try beginContainer(tag: BinaryValueEncoding.array, closing: UInt8(ascii: "]"), depth: depth) else { return }
        var count = 0
        while true {
            skipWhitespace()
            try encodeValue(depth: depth)
            count += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                patchCount(at: countAt, count)
                return
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func encodeObject(depth: Int) throws(ParseError) {
        guard let countAt = try beginContainer(tag: BinaryValueEncoding.object, closing: UInt8(ascii: "}"), depth: depth) else { return }
        let firstKey = encodedKeys.count
        if encodedKeys.capacity == 0 { encodedKeys.reserveCapacity(16) }  // one allocation per line, not one per doubling
        defer { encodedKeys.removeSubrange(firstKey...) }
        // Keys compared one by one while the object is small; past that, a set of them (what the
        // tree parser's dictionary does), so a line of many keys costs linear time, not quadratic.
        var keySet = Set<String>()
        var count = 0
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = offset
            let keyStart = output.count + 4
            try encodeString()
            let key = output.withBytes { buffer in
                (start: keyStart, count: output.count - keyStart, isASCII: ByteScan.isASCII(UnsafeBufferPointer(rebasing: buffer[keyStart...])))
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            offset += 1
            skipWhitespace()
            try encodeValue(depth: depth)
            // A repeated key is refused, after its value as `object(depth:)` refuses it.
            let repeated: Bool
            if count < Self.keysComparedOneByOne {
                repeated = isRepeated(key, since: firstKey)
                encodedKeys.append(key)
            } else {
                if count == Self.keysComparedOneByOne { keySet = Set(encodedKeys[firstKey...].map { keyText($0) }) }
                repeated = !keySet.insert(keyText(key)).inserted
            }
            if repeated { throw ParseError.repeatedKey(at: keyOffset) }
            count += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                patchCount(at: countAt, count)
                return
            default: throw error("expected ',' or '}'")
            }
        }
    }

    /// How many keys of an encoded object are compared one by one before a set takes over.
    static let keysComparedOneByOne = 16

    /// The text of a key written in `output`.
    private func keyText(_ key: EncodedKey) -> String {
        output.withBytes { String(decoding: UnsafeBufferPointer(rebasing: $0[key.start..<key.start + key.count]), as: UTF8.self) }
    }

    /// Whether `key` is the same key (`BinaryValueEncoding.sameKey`) as one of the object's earlier ones (`encodedKeys[first...]`).
    private func isRepeated(_ key: EncodedKey, since first: Int) -> Bool {
        output.withBytes { buffer in
            func bytes(_ key: EncodedKey) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: buffer[key.start..<key.start + key.count])
            }
            return encodedKeys[first...].contains { BinaryValueEncoding.sameKey(bytes($0), isASCII: $0.isASCII, bytes(key), isASCII: key.isASCII) }
        }
    }

    private mutating func array(depth: Int) throws(ParseError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                return .array(elements)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func string() throws(ParseError) -> String {
        offset += 1  // opening quote
        let start = offset
        // Fast path: no escapes.
        skipPlainStringBytes()
        if offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
                offset += 1
                return text
            }
            if byte < 0x20 { throw error("control character in a string") }
        }
        var scalars = Array(bytes[start..<offset])
        try unescapeRest(into: &scalars)
        return String(decoding: scalars, as: UTF8.self)
    }

    /// Appends the rest of a string (from an escape on) to `scalars` as UTF-8, escapes resolved,
    /// and moves past its closing quote.
    private mutating func unescapeRest(into scalars: inout [UInt8]) throws(ParseError) {
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return
            case UInt8(ascii: "\\"):
                offset += 1
                guard let escape = current else { throw error("unexpected end of input") }
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                            throw error("a lone surrogate in a \\u escape")
                        }
                        offset += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("a lone surrogate in a \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("a lone surrogate in a \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("an invalid \\u escape") }
                    scalars.append(contentsOf: String(Character(scalar)).utf8)
                default: throw error("an invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in a string") }
                scalars.append(byte)
                offset += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(ParseError) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw error("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("an invalid \\u escape")
            }
            value = value << 4 | digit
            offset += 1
        }
        return value
    }

    private mutating func number() throws(ParseError) -> JSONValue {
        let start = offset
        if current == UInt8(ascii: "-") { offset += 1 }
        guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw error("invalid number") }
        if first == UInt8(ascii: "0") {
            offset += 1
        } else {
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { offset += 1 }
        }
        var integral = true
        if current == UInt8(ascii: ".") {
            integral = false
            offset += 1
            guard let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw error("invalid number") }
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { offset += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw error("invalid number") }
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { offset += 1 }
        }
        // Up to 18 digits cannot overflow an Int64: read in place, no string made.
        if integral, offset - start <= 18 {
            var magnitude: Int64 = 0
            for byte in bytes[(bytes[start] == UInt8(ascii: "-") ? start + 1 : start)..<offset] { magnitude = magnitude * 10 + Int64(byte &- UInt8(ascii: "0")) }
            return .int(bytes[start] == UInt8(ascii: "-") ? -magnitude : magnitude)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if integral {
            // Not silently widened to a Double, which would change its value.
            guard let integer = Int64(text) else {
                offset = start
                throw error("integer out of range")
            }
            return .int(integer)
        }
        guard let double = Double(text), double.isFinite else {
            offset = start
            throw error("number out of range")
        }
        // Underflow: a zero result from a mantissa with a non-zero digit (`1e-400`) is not the number written.
        if double == 0, bytes[start..<offset].prefix(while: { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") })
            .contains(where: { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) })
        {
            offset = start
            throw error("number too close to zero to represent")
        }
        return .double(double)
    }
}
