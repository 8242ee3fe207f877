import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// Checks the audit records written before the history chain (schema 5 and older: one hash-chained
/// record per action, `AuditChain`) against their own chain and authenticated head, as they were
/// written. The genesis link covers them as well.
struct LegacyAuditVerifier {
    let database: SQLiteDatabase

    /// The first problem of the legacy records, or nil when they chain and match their head (or there are none).
    func problem(keys: [EncryptionKey]) throws -> String? {
        let statement = try database.prepare(
            "SELECT seq, time_ns, principal, operation, target, outcome, details, prev_hash, hash FROM audit WHERE link IS NULL ORDER BY seq")
        try statement.bind([])
        var previous = AuditChain.genesis
        var expected: Int64 = 1
        while try statement.step() {
            let record = AuditReader.record(statement)
            if record.sequence != expected {
                return record.sequence > expected
                    ? "legacy audit record \(expected) is missing (the sequence jumps from \(expected - 1) to \(record.sequence))"
                    : "legacy audit record \(record.sequence) is out of order"
            }
            if statement.blob(7) ?? [] != previous {
                return "legacy audit record \(record.sequence) does not follow record \(record.sequence - 1) (reordered, replaced or inserted)"
            }
            let hash = AuditChain.hash(record, after: previous)
            if hash != statement.blob(8) ?? [] {
                return "legacy audit record \(record.sequence) was altered (its hash does not match its contents)"
            }
            previous = hash
            expected += 1
        }
        let count = expected - 1
        let head = try database.prepare("SELECT seq, hash, mac, key_id FROM audit_head WHERE id = 1").rows {
            ($0.int(0), $0.blob(1) ?? [], $0.blob(2) ?? [], $0.text(3) ?? "")
        }
        guard let (sequence, hash, mac, keyID) = head.first else {
            return count == 0 ? nil : "the legacy audit records have no authenticated head"
        }
        guard let key = keys.first(where: { $0.idString == keyID }) else {
            return "the legacy audit head is signed under key \(keyID), which was not given (pass it with --retired-key-file)"
        }
        if !ConstantTime.equal(AuditChain.headMAC(sequence: sequence, hash: hash, macKey: AuditChain.macKey(from: key)), mac) {
            return "the legacy audit head's MAC does not verify (a forged head)"
        }
        if sequence != count || hash != previous {
            return "the legacy audit records end at \(count), their authenticated head at \(sequence) (records were removed or added)"
        }
        return nil
    }
}
