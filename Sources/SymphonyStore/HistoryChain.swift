import SymphonyCrypto
import SymphonyEvents

/// The digests of what one chain link covers, one per table (SHA-256 of the rows' canonical
/// bytes, `ChainRowEncoding`, in row order).
public struct TableDigests: Sendable, Hashable {
    public var events: [UInt8]
    public var executions: [UInt8]
    /// The new `scheduled` entries, then the `scheduled_changes` rows.
    public var scheduled: [UInt8]
    public var deadLetters: [UInt8]
    public var audit: [UInt8]

    /// The tables in the order the link hash takes them, with their names.
    var named: [(table: String, digest: [UInt8])] {
        [("events", events), ("executions", executions), ("scheduled", scheduled), ("dead_letters", deadLetters), ("audit", audit)]
    }
}

/// One link of the history chain: what one writer commit appended to the history.
public struct ChainLink: Sendable, Hashable {
    /// The first link of a database, or one commit's.
    public enum Kind: Int64, Sendable {
        /// Link 1: names the database, and covers every row written before the chain existed (schema 5 and older).
        case genesis = 0
        /// One writer commit.
        case commit = 1
    }

    /// 1, 2, 3, … without gaps.
    public let sequence: Int64
    /// When it was committed.
    public let time: Timestamp
    public let kind: Kind
    /// What the commit wrote, table by table.
    public let digests: TableDigests
    /// Genesis: `database <id>`, and the legacy audit head it took over, if any. Commits:
    /// `handled <event id>` (the intake mark), or empty.
    public let note: String
    public let previousHash: [UInt8]
    public let hash: [UInt8]

    /// A link chained after `previousHash`; its hash is computed.
    init(sequence: Int64, time: Timestamp, kind: Kind, digests: TableDigests, note: String, previousHash: [UInt8]) {
        self.init(
            sequence: sequence, time: time, kind: kind, digests: digests, note: note, previousHash: previousHash,
            hash: HistoryChain.hash(sequence: sequence, time: time, kind: kind, digests: digests, note: note, after: previousHash))
    }

    /// A link as stored (its hash as stored, to be checked).
    init(sequence: Int64, time: Timestamp, kind: Kind, digests: TableDigests, note: String, previousHash: [UInt8], hash: [UInt8]) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.digests = digests
        self.note = note
        self.previousHash = previousHash
        self.hash = hash
    }

    /// How a commit's note begins when it carries the intake mark.
    static let intakeNotePrefix = "handled "

    /// The database id a genesis link names (`database <id>` in its note).
    var databaseID: String? {
        kind == .genesis ? Self.databaseID(inGenesisNote: note) : nil
    }

    /// The id in a genesis link's note (`database <id> …`).
    static func databaseID(inGenesisNote note: String) -> String? {
        let words = note.split(separator: " ")
        guard words.count >= 2, words[0] == "database" else { return nil }
        return String(words[1])
    }
}

/// The history chain (docs/reference/history-database.md, "The chain"): every writer commit appends one link whose
/// hash covers the digests of every row the commit wrote, chained to the previous link's hash;
/// the last link is the head, kept in `chain_head` with an HMAC under a key derived from the
/// encryption key.
///
/// `hash(n) = SHA-256(hash(n−1) ‖ seq ‖ time_ns ‖ kind ‖ 5 digests ‖ note)`, each field encoded as
/// in `ChainRowEncoding`; `hash(0) = SHA-256("symphony.chain.genesis.v1")`.
public enum HistoryChain {
    /// hash(0).
    public static let genesis = SHA256.hash(Array("symphony.chain.genesis.v1".utf8))

    /// The hash of a link with these fields chained after `previous`.
    public static func hash(sequence: Int64, time: Timestamp, kind: ChainLink.Kind, digests: TableDigests, note: String, after previous: [UInt8])
        -> [UInt8]
    {
        var encoding = ChainRowEncoding(reservingCapacity: 256)
        encoding.integer(sequence)
        encoding.integer(time.nanosecondsSinceEpoch)
        encoding.integer(kind.rawValue)
        for (_, digest) in digests.named { encoding.blob(digest) }
        encoding.text(note)
        return SHA256.hash(previous + encoding.bytes)
    }

    /// HMAC-SHA-256 of the head: over `chain:`, the decimal sequence, `:` and the head hash.
    public static func headMAC(sequence: Int64, hash: [UInt8], macKey: [UInt8]) -> [UInt8] {
        HMACSHA256.mac(Array("chain:\(sequence):".utf8) + hash, key: macKey)
    }

    /// The MAC key derived from an encryption key (the same derivation as the audit trail's, `AuditChain.macKey`).
    public static func macKey(from key: EncryptionKey) -> [UInt8] {
        AuditChain.macKey(from: key)
    }
}
