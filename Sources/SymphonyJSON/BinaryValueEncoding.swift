import Glibc

/// The binary encoding of a JSON value that event bodies use (docs/reference/envelope-format.md,
/// "The event body"): a tag byte, then the value. Shared by the parser that writes input payloads
/// in it and the event runtime that writes and reads it, so the format has one definition.
///
/// ```
/// value := u8 0 (null) | u8 1 (false) | u8 2 (true) | u8 3 · i64 | u8 4 · f64 bits
///        | u8 5 · str | u8 6 · u32 count · value* | u8 7 · u32 count · (str key · value)*
/// str   := u32 byte count · UTF-8 bytes          (all integers big-endian)
/// ```
public enum BinaryValueEncoding {
    @inlinable public static var null: UInt8 { 0 }
    @inlinable public static var `false`: UInt8 { 1 }
    @inlinable public static var `true`: UInt8 { 2 }
    @inlinable public static var int: UInt8 { 3 }
    @inlinable public static var double: UInt8 { 4 }
    @inlinable public static var string: UInt8 { 5 }
    @inlinable public static var array: UInt8 { 6 }
    @inlinable public static var object: UInt8 { 7 }

    /// Whether two object keys, as UTF-8 bytes, are the same key in a `JSONValue` object: equal
    /// bytes, or, when either holds non-ASCII bytes, equal `String`s (canonical equivalence, as a
    /// dictionary compares them: `é` and `e\u{301}` are one key, and so are `K` and U+212A).
    /// The caller says whether each key is ASCII (`ByteScan.isASCII`), so that a key compared with
    /// many others is scanned once. (Inlinable: readers compare every member's key while they look
    /// a field up.)
    @inlinable
    public static func sameKey(_ lhs: UnsafeBufferPointer<UInt8>, isASCII lhsIsASCII: Bool, _ rhs: UnsafeBufferPointer<UInt8>, isASCII rhsIsASCII: Bool) -> Bool {
        if sameBytes(lhs, rhs) { return true }
        return sameNonASCIIKey(lhs, isASCII: lhsIsASCII, rhs, isASCII: rhsIsASCII)
    }

    @inlinable
    static func sameBytes(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        lhs.count == rhs.count && (lhs.isEmpty || memcmp(lhs.baseAddress!, rhs.baseAddress!, lhs.count) == 0)
    }

    /// `sameKey` for keys whose bytes differ: equal only as non-ASCII `String`s can be.
    @inlinable
    static func sameNonASCIIKey(_ lhs: UnsafeBufferPointer<UInt8>, isASCII lhsIsASCII: Bool, _ rhs: UnsafeBufferPointer<UInt8>, isASCII rhsIsASCII: Bool) -> Bool {
        guard !lhsIsASCII || !rhsIsASCII else { return false }
        return String(decoding: lhs, as: UTF8.self) == String(decoding: rhs, as: UTF8.self)
    }
}
