import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// What `verify` found.
public enum AuditVerification: Sendable, Hashable {
    /// Every link chains, covers exactly its rows, and the head matches: `links` links covering `rows` rows.
    case intact(links: Int, rows: Int)
    /// The first problem, naming the link (sequence number) where it was found.
    case broken(sequence: Int64, problem: String)
}

/// Lists audit records, and verifies the history chain that covers every row.
public final class AuditReader {
    private let database: SQLiteDatabase

    /// Opens the history database at `path` read-only.
    public init(path: String) throws {
        database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        let version = try database.userVersion
        guard version >= HistorySchema.chainStep else {
            throw StoreError(
                code: -1, message: "The database '\(path)' has schema version \(version), from before the history chain; run 'symphony run' once to migrate it.")
        }
        guard version <= HistorySchema.currentVersion else {
            throw StoreError(
                code: -1,
                message: "The database '\(path)' has schema version \(version), newer than this build's \(HistorySchema.currentVersion); upgrade Symphony.")
        }
    }

    /// Records matching the filters, most recent first.
    public func list(principal: String? = nil, operation: String? = nil, since: Timestamp? = nil, limit: Int = 50) throws -> [AuditRecord] {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let principal { conditions.append("principal = ?"); values.append(.text(principal)) }
        if let operation { conditions.append("operation = ?"); values.append(.text(operation)) }
        if let since { conditions.append("time_ns >= ?"); values.append(.int(since.nanosecondsSinceEpoch)) }
        let sql = """
            SELECT seq, time_ns, principal, operation, target, outcome, details FROM audit
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT \(max(0, limit))
            """
        return try database.prepare(sql).rows(values, Self.record)
    }

    /// Recomputes the history chain from every row and checks the authenticated head; reports the first problem.
    ///
    /// Catches an edited, deleted, inserted or reordered row of `events`, `executions`, `scheduled`
    /// (and its changes), `dead_letters` and `audit` (its link's digest no longer matches), a removed
    /// or altered link, links cut from the end (the head names a later link), a forged head, and
    /// with `checkpoint`, a history rolled back to an older copy or erased and started afresh.
    public func verify(key: EncryptionKey, checkpoint: HistoryCheckpoint? = nil) throws -> AuditVerification {
        try verify(keys: [key], checkpoint: checkpoint)
    }

    /// Like `verify(key:)`, checking the head's MAC with whichever of `keys` wrote it (by key id), for rotated keys.
    ///
    /// Reads everything in one snapshot, so a writer committing meanwhile (a running `symphony run`)
    /// never looks like a truncated chain.
    public func verify(keys: [EncryptionKey], checkpoint: HistoryCheckpoint? = nil) throws -> AuditVerification {
        try database.readTransaction { try ChainVerifier(database: database, keys: keys, scope: .everything).verify(checkpoint: checkpoint) }
    }

    /// The authenticated head as a checkpoint signed under `key`, or nil when the history has no
    /// chain yet. Throws when the head is not the chain's last link or its MAC does not verify
    /// under `key`: a checkpoint must never vouch for links written by someone without the key.
    public func checkpoint(key: EncryptionKey) throws -> HistoryCheckpoint? {
        try database.readTransaction {
            guard let databaseID = try databaseID() else { return nil }
            let last = try database.prepare("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").rows { ($0.int(0), $0.blob(1) ?? []) }
            let head = try database.prepare("SELECT seq, hash, key_id, mac FROM chain_head WHERE id = 1").rows {
                ($0.int(0), $0.blob(1) ?? [], $0.text(2) ?? "", $0.blob(3) ?? [])
            }
            guard let (sequence, hash, keyID, mac) = head.first, let (lastSequence, lastHash) = last.first, keyID == key.idString,
                sequence == lastSequence, hash == lastHash,
                ConstantTime.equal(HistoryChain.headMAC(sequence: sequence, hash: hash, macKey: HistoryChain.macKey(from: key)), mac)
            else {
                throw StoreError(
                    code: -1, message: "The history chain's head does not verify under key \(key.idString); run 'symphony audit verify'. No checkpoint was written.")
            }
            return HistoryCheckpoint(databaseID: databaseID, sequence: sequence, hash: hash, key: key)
        }
    }

    /// True when this history is the checkpoint's database and still holds the link it names, or
    /// pruned it (a quick check of the place, not of the rows: `verify(keys:checkpoint:)` does both).
    public func contains(_ checkpoint: HistoryCheckpoint) throws -> Bool {
        try database.readTransaction {
            guard try databaseID() == checkpoint.databaseID else { return false }
            if let start = try ChainStart.latest(in: database), checkpoint.sequence <= start.link {
                return checkpoint.sequence < start.link || checkpoint.hash == start.hash
            }
            let hash = try database.prepare("SELECT hash FROM chain WHERE seq = ?").rows([.int(checkpoint.sequence)]) { $0.blob(0) ?? [] }
            return hash.first == checkpoint.hash
        }
    }

    /// The id of the key the history's authenticated head is signed under — the key the history
    /// is written with — or nil when it has none yet.
    public func headKeyID() throws -> String? {
        try database.prepare("SELECT key_id FROM chain_head WHERE id = 1").rows { $0.text(0) }.first ?? nil
    }

    /// Where the chain starts after the latest prune (unchecked: `verify` checks its MAC), or nil
    /// when the history was never pruned.
    public func chainStart() throws -> ChainStart? {
        try database.readTransaction { try ChainStart.latest(in: database) }
    }

    /// The database id its genesis link names (or, once pruned, its signed start).
    private func databaseID() throws -> String? {
        try ChainStart.databaseID(in: database)
    }

    static func record(_ row: SQLiteStatement) -> AuditRecord {
        AuditRecord(
            time: Timestamp(nanosecondsSinceEpoch: row.int(1)), principal: row.text(2) ?? "", operation: AuditOperation(rawValue: row.text(3) ?? ""),
            target: row.text(4) ?? "", outcome: row.text(5) ?? "", details: row.text(6) ?? "", sequence: row.int(0))
    }
}
