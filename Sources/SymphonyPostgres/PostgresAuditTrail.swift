import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// A cluster's audit records of operations (`symphony_audit`): who did what to which target,
/// and how it went — denials, rule loads. Each record is written by a node on a link of its
/// `NODE/audit` chain, which covers it with the link's audit digest; `symphony audit list
/// --store` reads them back.
public enum PostgresAuditTrail {
    /// Inserts `records`, written by `node`, as rows of `link`; returns the digest the link covers them with.
    public static func record(_ records: [AuditRecord], node: String, link: PostgresHandlingRecords.Link, on connection: PostgresConnection) throws -> [UInt8] {
        var fields = ChainFields()
        var encoded: [UInt8] = []
        for given in records {
            // As stored (text cannot hold NUL): what the verifier reads back is what was hashed.
            let record = AuditRecord(
                time: given.time, principal: PostgresText.storable(given.principal), operation: AuditOperation(rawValue: PostgresText.storable(given.operation.rawValue)),
                target: PostgresText.storable(given.target), outcome: PostgresText.storable(given.outcome), details: PostgresText.storable(given.details))
            PostgresChain.encodeAudit(record, node: node, into: &fields)
            encoded += fields.take()
            try connection.execute(
                """
                INSERT INTO symphony_audit (time_ns, principal, operation, target, outcome, details, node, chain, link)
                VALUES ($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9::bigint)
                """,
                [
                    .int(record.time.nanosecondsSinceEpoch), .text(record.principal), .text(record.operation.rawValue), .text(record.target),
                    .text(record.outcome), .text(record.details), .text(node), .text(link.chain), .int(link.sequence),
                ])
        }
        return SHA256.hash(encoded)
    }

    /// Records, most recent first: `principal`'s only, `operation`'s only, since `since`, at most `limit`.
    public static func list(
        principal: String?, operation: String?, since: Timestamp?, limit: Int, on connection: PostgresConnection
    ) throws -> [AuditRecord] {
        var conditions: [String] = []
        var parameters: [PostgresParameter] = []
        if let principal {
            parameters.append(.text(principal))
            conditions.append("principal = $\(parameters.count)")
        }
        if let operation {
            parameters.append(.text(operation))
            conditions.append("operation = $\(parameters.count)")
        }
        if let since {
            parameters.append(.int(since.nanosecondsSinceEpoch))
            conditions.append("time_ns >= $\(parameters.count)::bigint")
        }
        let rows = try connection.execute(
            """
            SELECT seq, time_ns, principal, operation, target, outcome, details FROM symphony_audit
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY time_ns DESC, seq DESC LIMIT \(max(0, limit))
            """, parameters)
        return try (0..<rows.count).map { row in
            AuditRecord(
                time: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 1) ?? 0), principal: rows.text(row, 2) ?? "",
                operation: AuditOperation(rawValue: rows.text(row, 3) ?? ""), target: rows.text(row, 4) ?? "", outcome: rows.text(row, 5) ?? "",
                details: rows.text(row, 6) ?? "", sequence: try rows.int(row, 0) ?? 0)
        }
    }
}
