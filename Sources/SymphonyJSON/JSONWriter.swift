/// Compact JSON written straight into UTF-8 bytes: what output lines are made of.
///
/// It writes exactly what `JSONValue.jsonText` gives for the same value — object keys in sorted
/// order, strings escaped per RFC 8259 (and U+2028/U+2029), whole doubles below 10¹⁵ with `.0`,
/// non-finite doubles as `null` — but callers that know their keys write them in a fixed order
/// with `key(_:)`, and nothing builds a tree or an intermediate String.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends `text` as it is: punctuation, or a key already known to need no escaping.
    @inlinable
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte as it is.
    @inlinable
    public mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends `"name":` — for a name that needs no escaping, in the order the caller fixed.
    @inlinable
    public mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends `,"name":` — a member after the first.
    @inlinable
    public mutating func nextKey(_ name: StaticString) {
        bytes.append(UInt8(ascii: ","))
        key(name)
    }

    /// Appends `,"name":` and `text` as a string: a string member after the first.
    public mutating func member(_ name: StaticString, _ text: String) {
        nextKey(name)
        string(text)
    }

    /// Appends `,"name":` and a whole number: a number member after the first.
    public mutating func member(_ name: StaticString, int number: Int64) {
        nextKey(name)
        int(number)
    }

    /// Appends a whole number.
    public mutating func int(_ number: Int64) {
        bytes.append(contentsOf: String(number).utf8)
    }

    /// Appends a double as `JSONValue` prints it: `null` when not finite, `N.0` for a whole number below 10¹⁵.
    public mutating func double(_ number: Double) {
        if !number.isFinite {
            raw("null")
        } else if number == number.rounded(), abs(number) < 1e15 {
            bytes.append(contentsOf: String(Int64(number)).utf8)
            raw(".0")
        } else {
            bytes.append(contentsOf: String(number).utf8)
        }
    }

    /// Appends `text` as a JSON string literal.
    public mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string(validUTF8: $0) }
    }

    /// Appends UTF-8 bytes that are known to be valid as a JSON string literal (escaping what must be).
    public mutating func string(validUTF8 text: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        while index < text.count {
            let byte = text[index]
            let escape: StaticString?
            switch byte {
            case 0x22: escape = "\\\""
            case 0x5C: escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0x00..<0x20: escape = ""  // \u00XX below
            case 0xE2 where index + 2 < text.count && text[index + 1] == 0x80 && (text[index + 2] == 0xA8 || text[index + 2] == 0xA9):
                escape = text[index + 2] == 0xA8 ? "\\u2028" : "\\u2029"
            default: escape = nil
            }
            guard let escape else {
                index += 1
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<index]))
            if escape.utf8CodeUnitCount == 0 {
                raw("\\u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                index += 1
            } else {
                raw(escape)
                index += byte == 0xE2 ? 3 : 1
            }
            runStart = index
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<text.count]))
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `value`, object keys in sorted order.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .int(let number): int(number)
        case .double(let number): double(number)
        case .string(let text): string(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                string(member.key)
                bytes.append(UInt8(ascii: ":"))
                self.value(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// The bytes as a String.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
