/// A 256-bit AES key and the id that names it inside envelopes.
///
/// The key bytes are wiped from memory when the last reference goes away and never appear in
/// `description`, logs or errors.
public final class EncryptionKey: Sendable, CustomStringConvertible {
    /// The length of every key, in bytes.
    public static let byteCount = 32

    /// The 4-byte id written into every envelope sealed with this key: the first four bytes of
    /// SHA-256("symphony-key-id-v1" ‖ key), read big-endian. It identifies the key without revealing it.
    public let id: UInt32

    // Immutable after init; wiped in deinit, when no other reference can exist.
    private let storage: [UInt8]

    /// Wraps 32 key bytes; throws `keyFileMalformed` for any other length.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError(.keyFileMalformed, "An AES-256 key must be exactly 32 bytes, not \(bytes.count).")
        }
        storage = bytes
        id = Self.keyID(for: bytes)
    }

    /// A new key of 32 bytes from the operating system's CSPRNG.
    public static func generate() throws -> EncryptionKey {
        var bytes = try SecureRandom.bytes(byteCount)
        defer { wipe(&bytes) }
        return try EncryptionKey(bytes: bytes)
    }

    /// Calls `body` with the raw key bytes; the bytes must not escape.
    public func withUnsafeKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    /// The key id as eight hexadecimal digits, for messages and listings.
    public var idString: String { Self.idString(id) }

    /// A key id as eight hexadecimal digits (for ids read from envelopes, where there is no key).
    public static func idString(_ id: UInt32) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    public var description: String { "EncryptionKey(id: \(idString))" }

    deinit {
        storage.withUnsafeBytes { buffer in
            // The storage is uniquely owned here; cleansing through the raw pointer is the only write.
            SecureMemory.cleanse(UnsafeMutableRawPointer(mutating: buffer.baseAddress!), buffer.count)
        }
    }

    static func keyID(for bytes: [UInt8]) -> UInt32 {
        let digest = SHA256.hash(Array("symphony-key-id-v1".utf8) + bytes)
        return digest[0..<4].reduce(0) { ($0 << 8) | UInt32($1) }
    }

    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { SecureMemory.cleanse($0.baseAddress!, $0.count) }
    }
}
