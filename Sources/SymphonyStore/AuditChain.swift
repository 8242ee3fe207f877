import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// The audit trail's hash chain (docs/reference/history-database.md, "Audit records written before schema 6").
///
/// `hash(n) = SHA-256(hash(n−1) ‖ encode(record n))`, with `hash(0)` = SHA-256("symphony.audit.genesis.v1").
/// `encode` writes seven fields — sequence and time as decimal text, then principal, operation,
/// target, outcome, details — each as a 4-byte big-endian length and its UTF-8 bytes. The head
/// (last sequence and hash) is kept in `audit_head` with an HMAC-SHA-256 under a key derived from
/// the encryption key, so deleting records from the end is caught too.
public enum AuditChain {
    /// hash(0).
    public static let genesis = SHA256.hash(Array("symphony.audit.genesis.v1".utf8))

    /// The canonical, length-prefixed encoding of a record's fields.
    public static func encode(_ record: AuditRecord) -> [UInt8] {
        var bytes: [UInt8] = []
        for field in [
            String(record.sequence), String(record.time.nanosecondsSinceEpoch), record.principal, record.operation.rawValue, record.target,
            record.outcome, record.details,
        ] {
            BigEndianBytes.appendLengthPrefixed(field, to: &bytes)
        }
        return bytes
    }

    /// The hash of `record` chained after `previous`.
    public static func hash(_ record: AuditRecord, after previous: [UInt8]) -> [UInt8] {
        SHA256.hash(previous + encode(record))
    }

    /// The MAC key: SHA-256("symphony.audit.mac.v1" ‖ key), so the encryption key itself is never used twice.
    public static func macKey(from key: EncryptionKey) -> [UInt8] {
        key.withUnsafeKeyBytes { SHA256.hash(Array("symphony.audit.mac.v1".utf8) + Array($0)) }
    }

    /// HMAC-SHA-256 over the decimal head sequence, a `:` and the head hash.
    public static func headMAC(sequence: Int64, hash: [UInt8], macKey: [UInt8]) -> [UInt8] {
        HMACSHA256.mac(Array("\(sequence):".utf8) + hash, key: macKey)
    }
}
