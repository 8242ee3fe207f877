/// Writing the big-endian integers and length-prefixed fields that every Symphony byte format
/// uses (envelopes, their associated data, event bodies, the audit chain, rule bundles).
public enum BigEndianBytes {
    /// Appends `value` as 4 big-endian bytes.
    @inlinable
    public static func append(_ value: UInt32, to buffer: inout [UInt8]) {
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends `value` as 8 big-endian bytes.
    @inlinable
    public static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        append(UInt32(truncatingIfNeeded: value >> 32), to: &buffer)
        append(UInt32(truncatingIfNeeded: value), to: &buffer)
    }

    /// Appends the UTF-8 bytes of `text` preceded by their count as 4 big-endian bytes (copied
    /// from the string's storage at once, where appending its `utf8` view goes byte by byte).
    @inlinable
    public static func appendLengthPrefixed(_ text: String, to buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            append(UInt32(truncatingIfNeeded: bytes.count), to: &buffer)
            buffer.append(contentsOf: bytes)
        }
    }

    /// Appends `bytes` preceded by their count as 4 big-endian bytes.
    @inlinable
    public static func appendLengthPrefixed(_ bytes: some Collection<UInt8>, to buffer: inout [UInt8]) {
        append(UInt32(truncatingIfNeeded: bytes.count), to: &buffer)
        buffer.append(contentsOf: bytes)
    }
}
