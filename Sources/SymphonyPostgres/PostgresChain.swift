import SymphonyCrypto
import SymphonyRecords
import SymphonyEvents

/// The hash chains over what cluster workers commit (docs/how-to/operations.md, "What the nodes did").
///
/// Each worker of each node appends to a chain of its own, named `NODE/N`: every batch it commits
/// adds one link whose hash covers the digests of the `symphony_handled` and
/// `symphony_executions` rows the batch wrote, chained to the previous link's hash. The chain's
/// last link is its head, kept in `symphony_chain_heads` with an HMAC under a key derived from
/// the encryption key, so links cut from the end are caught too.
///
/// `hash(n) = SHA-256(hash(n−1) ‖ chain ‖ n ‖ time_ns ‖ handled digest ‖ executions digest)`, fields
/// encoded as in `ChainFields`; `hash(0) = SHA-256("symphony.cluster.chain.v1")`.
public enum PostgresChain {
    /// hash(0).
    public static let genesis = SHA256.hash(Array("symphony.cluster.chain.v1".utf8))

    /// SHA-256 over no rows: the digest of a table a link wrote nothing to.
    static let emptyDigest = SHA256.hash([])

    /// The hash of link `sequence` of `chain`, chained after `previous`.
    public static func hash(
        chain: String, sequence: Int64, time: Int64, handled: [UInt8], executions: [UInt8], audit: [UInt8]? = nil, after previous: [UInt8]
    ) -> [UInt8] {
        var fields = ChainFields()
        fields.text(chain)
        fields.integer(sequence)
        fields.integer(time)
        fields.blob(handled)
        fields.blob(executions)
        // A link that covers audit records has a sixth field; the others hash as they always did.
        if let audit { fields.blob(audit) }
        return SHA256.hash(previous + fields.bytes)
    }

    /// The MAC key: SHA-256("symphony.cluster.mac.v1" ‖ key), so the encryption key itself is never used twice.
    public static func macKey(from key: EncryptionKey) -> [UInt8] {
        key.withUnsafeKeyBytes { SHA256.hash(Array("symphony.cluster.mac.v1".utf8) + Array($0)) }
    }

    /// HMAC-SHA-256 of a chain's head: over `chain:`, the chain's name, `:`, the decimal sequence, `:` and the head hash.
    public static func headMAC(chain: String, sequence: Int64, hash: [UInt8], macKey: [UInt8]) -> [UInt8] {
        var message = Array("chain:".utf8)
        BigEndianBytes.appendLengthPrefixed(chain, to: &message)
        message += Array(":\(sequence):".utf8) + hash
        return HMACSHA256.mac(message, key: macKey)
    }

    /// The canonical bytes of a `symphony_handled` row: event_id, event_type, hop, node, handled_ns,
    /// and for a derived event its parent_id and rule (tagged fields, so input events encode as
    /// they did before the columns existed).
    static func encodeHandled(
        eventID: String, type: String, hop: Int64, node: String, handledNS: Int64, parent: (id: String, rule: String)?, into fields: inout ChainFields
    ) {
        fields.text(eventID)
        fields.text(type)
        fields.integer(hop)
        fields.text(node)
        fields.integer(handledNS)
        if let parent {
            fields.key(parent.id)
            fields.key(parent.rule)
        }
    }

    /// The canonical bytes of a `symphony_executions` row: event_id, rule, action, outcome, error,
    /// message, derived_event_id, node, started_ns, finished_ns, and its key when it has one (a
    /// tagged field, so rows without a key encode as they did before the column existed).
    static func encodeExecution(_ row: PostgresHandlingRecords.Execution, node: String, into fields: inout ChainFields) {
        fields.text(row.eventID)
        fields.text(row.rule)
        fields.text(row.action)
        fields.text(row.outcome)
        fields.text(row.error)
        fields.text(row.message)
        fields.text(row.derivedEventID)
        fields.text(node)
        fields.integer(row.started.nanosecondsSinceEpoch)
        fields.integer(row.finished.nanosecondsSinceEpoch)
        if let key = row.key { fields.key(key) }
    }

    /// The canonical bytes of a `symphony_audit` row: time_ns, principal, operation, target,
    /// outcome, details, node.
    static func encodeAudit(_ record: AuditRecord, node: String, into fields: inout ChainFields) {
        fields.integer(record.time.nanosecondsSinceEpoch)
        fields.text(record.principal)
        fields.text(record.operation.rawValue)
        fields.text(record.target)
        fields.text(record.outcome)
        fields.text(record.details)
        fields.text(node)
    }

    /// The digest of a link's handled rows: their encodings sorted bytewise (the table has no
    /// order of its own), then hashed together.
    static func handledDigest(_ encodings: [[UInt8]]) -> [UInt8] {
        SHA256.hash(encodings.sorted { $0.lexicographicallyPrecedes($1) }.flatMap { $0 })
    }
}

/// Fields in a self-delimiting form: `0x00` for NULL; `0x01` and 8 big-endian bytes for an
/// integer; `0x02`, a 4-byte big-endian length and the UTF-8 bytes for text; `0x03`, a 4-byte
/// length and the bytes for bytes; `0x04`, a 4-byte length and the UTF-8 bytes for an optional
/// trailing field (an execution's key; a derived event's parent and rule) — no row starts with
/// `0x04`: each starts with its event id.
/// Every field says its own length, so no two rows encode alike.
struct ChainFields {
    private(set) var bytes: [UInt8] = []

    mutating func integer(_ value: Int64?) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        BigEndianBytes.append(UInt64(bitPattern: value), to: &bytes)
    }

    mutating func text(_ value: String?) {
        guard let value else { return bytes.append(0) }
        bytes.append(2)
        BigEndianBytes.appendLengthPrefixed(value, to: &bytes)
    }

    mutating func key(_ value: String) {
        bytes.append(4)
        BigEndianBytes.appendLengthPrefixed(value, to: &bytes)
    }

    mutating func blob(_ value: [UInt8]) {
        bytes.append(3)
        BigEndianBytes.appendLengthPrefixed(value, to: &bytes)
    }

    /// Takes the bytes so far, leaving none.
    mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}
