/// The byte layout of a version-1 envelope (see `docs/reference/envelope-format.md`).
///
/// ```
/// offset  size  field
/// 0       1     version (0x01)
/// 1       4     key id, big-endian
/// 5       12    nonce: 8-byte random prefix ‖ 4-byte big-endian counter
/// 17      n     ciphertext (same length as the plaintext)
/// 17+n    16    GCM tag
/// ```
/// The associated data is the 17 header bytes followed by the `EnvelopeContext` encoding.
public enum EnvelopeFormat {
    /// The only version this build writes and reads.
    public static let currentVersion: UInt8 = 1
    /// Where the key id lives.
    public static let keyIDRange = 1..<5
    /// Where the nonce lives.
    public static let nonceRange = 5..<17
    /// Version, key id and nonce.
    public static let headerByteCount = 17
    /// The GCM tag's length; shorter tags are never accepted.
    public static let tagByteCount = 16
    /// Bytes an envelope adds to its plaintext.
    public static let overhead = headerByteCount + tagByteCount

    /// The key id an envelope names, or nil when the bytes are too short to be an envelope.
    public static func keyID(of envelope: [UInt8]) -> UInt32? {
        guard envelope.count >= overhead else { return nil }
        return envelope[keyIDRange].reduce(0) { ($0 << 8) | UInt32($1) }
    }
}
