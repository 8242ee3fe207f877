/// What an envelope is bound to: a domain label and a list of fields, authenticated but not encrypted.
///
/// An envelope opens only with the same context it was sealed with, so a ciphertext moved to
/// another event, or an event whose id, type or priority was changed, fails to open. The exact
/// byte encoding is in `docs/reference/envelope-format.md`: each of the domain and the fields is written as a
/// 4-byte big-endian length followed by its UTF-8 bytes.
public struct EnvelopeContext: Sendable, Hashable {
    /// Names what kind of thing is sealed, e.g. `symphony.event.v1`.
    public var domain: String
    /// The values the envelope is bound to, in order.
    public var fields: [String]

    /// A context with a domain label and fields.
    public init(domain: String, fields: [String]) {
        self.domain = domain
        self.fields = fields
    }

    /// Appends the context's encoding (length-prefixed domain, then each length-prefixed field) to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        // Sized first, then written in place: one capacity check for a context that holds two
        // fields per event of a batch (`BigEndianBytes.appendLengthPrefixed` per field measured
        // about 1% more instructions on the event path).
        var total = 4 + domain.utf8.count
        for field in fields { total += 4 + field.utf8.count }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: total))
        buffer.withUnsafeMutableBytes { output in
            var offset = Self.put(domain, into: output, at: start)
            for index in fields.indices { offset = Self.put(fields[index], into: output, at: offset) }
        }
    }

    /// Writes `text`'s byte count (4 bytes, big-endian) and UTF-8 bytes at `offset`; returns the offset after them.
    private static func put(_ text: String, into output: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let count = text.utf8.count
        output.storeBytes(of: UInt32(truncatingIfNeeded: count).bigEndian, toByteOffset: offset, as: UInt32.self)
        let target = UnsafeMutableRawBufferPointer(rebasing: output[(offset + 4)..<(offset + 4 + count)])
        if text.utf8.withContiguousStorageIfAvailable({ target.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
            Array(text.utf8).withUnsafeBytes { target.copyMemory(from: $0) }
        }
        return offset + 4 + count
    }

    /// The context's encoding as a new array.
    public var encoded: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

}
