import SymphonyCrypto
import SymphonyEvents

/// What `verify` found.
public enum AuditVerification: Sendable, Hashable {
    /// Every record chains and the head matches: `count` records.
    case intact(count: Int)
    /// The first problem, naming the record (sequence number) where it was found.
    case broken(sequence: Int64, problem: String)
}

/// Reads and verifies the audit trail.
public final class AuditReader {
    private let database: SQLiteDatabase

    /// Opens the history database at `path` read-only.
    public init(path: String) throws {
        database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        let version = try database.userVersion
        guard version >= 3 else {
            throw StoreError(code: -1, message: "The database '\(path)' has no audit trail yet; run 'symphony run' once to migrate it.")
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

    /// Recomputes the whole chain and checks the authenticated head; reports the first bad record.
    ///
    /// Catches an edited record (its hash no longer matches), a deleted or reordered record (a gap
    /// in the sequence, or a previous-hash mismatch), records cut from the end (the head names a
    /// later record), and a forged head (its MAC does not verify under the key).
    public func verify(key: EncryptionKey) throws -> AuditVerification {
        try verify(keys: [key])
    }

    /// Like `verify(key:)`, checking the head's MAC with whichever of `keys` wrote it (by key id), for rotated keys.
    ///
    /// Reads the records and the head in one snapshot, so a writer committing meanwhile (a running
    /// `symphony run`) never looks like a truncated trail.
    public func verify(keys: [EncryptionKey]) throws -> AuditVerification {
        try database.readTransaction { try verifySnapshot(keys: keys) }
    }

    private func verifySnapshot(keys: [EncryptionKey]) throws -> AuditVerification {
        let statement = try database.prepare("SELECT seq, time_ns, principal, operation, target, outcome, details, prev_hash, hash FROM audit ORDER BY seq")
        try statement.bind([])
        var previous = AuditChain.genesis
        var expected: Int64 = 1
        var count = 0
        while try statement.step() {
            let record = Self.record(statement)
            let storedPrevious = statement.blob(7) ?? []
            let storedHash = statement.blob(8) ?? []
            if record.sequence != expected {
                return .broken(
                    sequence: min(expected, record.sequence),
                    problem: record.sequence > expected
                        ? "record \(expected) is missing (the sequence jumps from \(expected - 1) to \(record.sequence))"
                        : "record \(record.sequence) is out of order")
            }
            if storedPrevious != previous {
                return .broken(sequence: record.sequence, problem: "record \(record.sequence) does not follow record \(record.sequence - 1) (its previous hash differs: reordered, replaced or inserted)")
            }
            if AuditChain.hash(record, after: previous) != storedHash {
                return .broken(sequence: record.sequence, problem: "record \(record.sequence) was altered (its hash does not match its contents)")
            }
            previous = storedHash
            expected += 1
            count += 1
        }
        let head = try database.prepare("SELECT seq, hash, mac, key_id FROM audit_head WHERE id = 1").rows {
            ($0.int(0), $0.blob(1) ?? [], $0.blob(2) ?? [], $0.text(3) ?? "")
        }
        guard let (headSequence, headHash, mac, keyID) = head.first else {
            return count == 0 ? .intact(count: 0) : .broken(sequence: 1, problem: "the authenticated head is missing")
        }
        guard let key = keys.first(where: { $0.idString == keyID }) else {
            return .broken(
                sequence: headSequence,
                problem: "the head is signed under key \(keyID), which was not given, so it cannot be checked (pass that key, with --retired-key-file after a rotation)")
        }
        if AuditChain.headMAC(sequence: headSequence, hash: headHash, macKey: AuditChain.macKey(from: key)) != mac {
            return .broken(sequence: headSequence, problem: "the head's MAC does not verify under this key (forged head, or the wrong key)")
        }
        if headSequence > Int64(count) {
            return .broken(sequence: Int64(count) + 1, problem: "records \(count + 1)…\(headSequence) were removed (the head says the trail ends at \(headSequence), the table at \(count))")
        }
        if headSequence < Int64(count) || headHash != previous {
            return .broken(sequence: headSequence + 1, problem: "records after \(headSequence) are not covered by the authenticated head")
        }
        return .intact(count: count)
    }

    private static func record(_ row: SQLiteStatement) -> AuditRecord {
        AuditRecord(
            time: Timestamp(nanosecondsSinceEpoch: row.int(1)), principal: row.text(2) ?? "", operation: row.text(3) ?? "",
            target: row.text(4) ?? "", outcome: row.text(5) ?? "", details: row.text(6) ?? "", sequence: row.int(0))
    }
}
