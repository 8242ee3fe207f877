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
        BigEndianBytes.appendLengthPrefixed(domain.utf8, to: &buffer)
        for field in fields {
            BigEndianBytes.appendLengthPrefixed(field.utf8, to: &buffer)
        }
    }

    /// The context's encoding as a new array.
    public var encoded: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

}
