import SymphonyCrypto
import SymphonyEvents
import SymphonyJSON
import SymphonyRecords

/// A cluster's side effects (`symphony_outbox`): each queued in the transaction of the batch
/// whose rule made it, then tried by whichever node holds its lease, until it is done (removed)
/// or dead (kept, state 2). Requests are sealed; the rest is in the clear for queries.
///
/// Leases are in the database's clock, so nodes whose clocks differ agree on when one ran out.
/// A node takes an entry with a lease (`queue` for its own, `claim` for any whose lease ran
/// out), renews it before each try (`renew`: refused when another node took it meanwhile), and
/// ends it with the try's outcome (`finish`). A node that dies holding a lease leaves its entries
/// to the others once the lease runs out: a try that was running may run again (at least once;
/// the entry's key is the idempotency key).
public enum PostgresOutbox {
    /// The envelope context a request is sealed under: domain `symphony.cluster.outbox.v1`, the action key.
    public static func context(actionKey: String) -> EnvelopeContext {
        EnvelopeContext(domain: "symphony.cluster.outbox.v1", fields: [actionKey])
    }

    /// Seals `entry`'s request and retry policy for its row.
    public static func seal(_ entry: OutboxEntry, with sealer: EnvelopeSealer) throws -> [UInt8] {
        try sealer.seal(Array(entry.storedJSON.jsonText.utf8), context: context(actionKey: entry.key))
    }

    /// Inserts `entries` (sealed) as pending; with `leasedTo`, leased to that node for `lease`
    /// from now. Returns the keys inserted: an entry queued before keeps its row and is left out.
    public static func queue(
        _ entries: [(entry: OutboxEntry, sealed: [UInt8])], leasedTo node: String?, for lease: Duration, on connection: PostgresConnection
    ) throws -> Set<String> {
        guard !entries.isEmpty else { return [] }
        var inserted = Set<String>()
        for start in stride(from: 0, to: entries.count, by: 500) {
            let chunk = entries[start..<min(entries.count, start + 500)]
            var placeholders: [String] = []
            var parameters: [PostgresParameter] = [.text(node.map { $0 } ?? ""), .int(lease.milliseconds), .int(node == nil ? 0 : 1)]
            for (entry, sealed) in chunk {
                let base = parameters.count
                placeholders.append(
                    "($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5)::smallint, $\(base + 6), $\(base + 7)::bytea, $\(base + 8)::bigint, $\(base + 9)::bigint)")
                parameters += [
                    .text(entry.key), .text(entry.eventID), .text(entry.eventType), .text(entry.rule), .int(entry.kind.rawValue),
                    entry.gateKey.map { .text($0) } ?? .null, .bytes(sealed), .int(entry.queued.nanosecondsSinceEpoch),
                    .int(entry.nextAttempt.nanosecondsSinceEpoch),
                ]
            }
            let rows = try connection.execute(
                """
                INSERT INTO symphony_outbox (key, event_id, event_type, rule, kind, gate_key, request, queued_ns, next_ns, claimed_by, lease_until)
                SELECT v.*, CASE WHEN $3::int = 1 THEN $1 END, CASE WHEN $3::int = 1 THEN clock_timestamp() + $2::bigint * interval '1 millisecond' END
                FROM (VALUES \(placeholders.joined(separator: ", "))) AS v
                ON CONFLICT (key) DO NOTHING RETURNING key
                """, parameters)
            for row in 0..<rows.count { if let key = rows.text(row, 0) { inserted.insert(key) } }
        }
        return inserted
    }

    /// Leases to `node`, for `lease`, up to `limit` pending entries due by `now` whose lease ran
    /// out (or that have none), oldest due first, and returns them opened. An entry that cannot be
    /// opened (altered in the database, or sealed under another key) is made dead and left out.
    public static func claim(
        limit: Int, node: String, now: Timestamp, lease: Duration, sealer: EnvelopeSealer, on connection: PostgresConnection
    ) throws -> [OutboxEntry] {
        let rows = try connection.execute(
            """
            UPDATE symphony_outbox o SET claimed_by = $1, lease_until = clock_timestamp() + $2::bigint * interval '1 millisecond'
            FROM (
                SELECT key FROM symphony_outbox
                WHERE state = 0 AND next_ns <= $3::bigint AND (lease_until IS NULL OR lease_until < clock_timestamp())
                ORDER BY next_ns LIMIT $4::bigint FOR UPDATE SKIP LOCKED
            ) due
            WHERE o.key = due.key
            RETURNING o.key, o.event_id, o.event_type, o.rule, o.gate_key, o.request, o.queued_ns, o.attempts, o.next_ns
            """,
            [.text(node), .int(lease.milliseconds), .int(now.nanosecondsSinceEpoch), .int(Int64(limit))])
        var entries: [OutboxEntry] = []
        for row in 0..<rows.count {
            guard let entry = try opened(rows, row, sealer: sealer) else {
                try connection.execute(
                    "UPDATE symphony_outbox SET state = 2, claimed_by = NULL, lease_until = NULL, last_error = $2 WHERE key = $1",
                    [.text(rows.text(row, 0) ?? ""), .text("the stored request cannot be opened with this node's keys")])
                continue
            }
            entries.append(entry)
        }
        return entries
    }

    /// The entry in `row` of `rows` (columns key, event_id, event_type, rule, gate_key, request,
    /// queued_ns, attempts, next_ns), its request opened; nil when the request does not open or parse.
    private static func opened(_ rows: PostgresRows, _ row: Int, sealer: EnvelopeSealer) throws -> OutboxEntry? {
        let key = rows.text(row, 0) ?? ""
        guard let sealed = try rows.bytes(row, 5), let plaintext = try? sealer.open(sealed, context: context(actionKey: key)),
            let json = try? JSONParser.parse(plaintext), let stored = OutboxEntry.parseStored(json)
        else { return nil }
        return OutboxEntry(
            key: key, eventID: rows.text(row, 1) ?? "", eventType: rows.text(row, 2) ?? "", rule: rows.text(row, 3) ?? "",
            request: stored.request, retry: stored.retry, gateKey: rows.text(row, 4),
            queued: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 6) ?? 0), attempts: Int(try rows.int(row, 7) ?? 0),
            nextAttempt: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 8) ?? 0))
    }

    /// Renews `node`'s lease on `entry` for `lease` before a try; false when the entry is not
    /// `node`'s to try: another node holds an unexpired lease on it, another try moved it on
    /// (its count of tries differs), or it is done or dead.
    public static func renew(_ entry: OutboxEntry, node: String, for lease: Duration, on connection: PostgresConnection) throws -> Bool {
        try connection.execute(
            """
            UPDATE symphony_outbox SET claimed_by = $2, lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'
            WHERE key = $1 AND state = 0 AND attempts = $4::int
              AND (claimed_by = $2 OR lease_until IS NULL OR lease_until < clock_timestamp())
            """,
            [.text(entry.key), .text(node), .int(lease.milliseconds), .int(Int64(entry.attempts))]
        ).affected == 1
    }

    /// Ends a try of `entry` (made by `node` under its lease): done removes it; a retry counts the
    /// try, sets the next one and keeps `node`'s lease until `lease` after it; dead counts the try
    /// and keeps the entry, unleased, with why. Returns false, changing nothing, when the entry
    /// moved on meanwhile — its lease ran out and another node took it, or another try counted —
    /// so that a late outcome never undoes a newer one.
    @discardableResult
    public static func finish(
        _ entry: OutboxEntry, state: OutboxState, error: String?, node: String, now: Timestamp, lease: Duration, on connection: PostgresConnection
    ) throws -> Bool {
        let fence = "key = $1 AND state = 0 AND claimed_by = $2 AND attempts = $3::int"
        let fenced: [PostgresParameter] = [.text(entry.key), .text(node), .int(Int64(entry.attempts))]
        switch state {
        case .done:
            return try connection.execute("DELETE FROM symphony_outbox WHERE \(fence)", fenced).affected == 1
        case .retry(let at):
            let hold = now.duration(to: at) + lease
            return try connection.execute(
                """
                UPDATE symphony_outbox SET attempts = attempts + 1, next_ns = $4::bigint, last_error = $5,
                    lease_until = clock_timestamp() + $6::bigint * interval '1 millisecond'
                WHERE \(fence)
                """,
                fenced + [.int(at.nanosecondsSinceEpoch), error.map { .text($0) } ?? .null, .int(max(hold, lease).milliseconds)]
            ).affected == 1
        case .dead(let reason):
            return try connection.execute(
                "UPDATE symphony_outbox SET state = 2, attempts = attempts + 1, last_error = $4, claimed_by = NULL, lease_until = NULL WHERE \(fence)",
                fenced + [.text(reason)]
            ).affected == 1
        }
    }

    /// Gives up `node`'s leases on pending entries (the node is stopping): other nodes may take them at once.
    public static func release(node: String, on connection: PostgresConnection) throws {
        try connection.execute("UPDATE symphony_outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND state = 0", [.text(node)])
    }

    /// The dead letters, oldest queued first, opened with `sealer`, with why each gave up; the keys
    /// of those that cannot be opened (altered, or sealed under another key) are listed apart.
    public static func dead(sealer: EnvelopeSealer, on connection: PostgresConnection) throws -> (
        entries: [(entry: OutboxEntry, reason: String)], unopened: [String]
    ) {
        let rows = try connection.execute(
            """
            SELECT key, event_id, event_type, rule, gate_key, request, queued_ns, attempts, next_ns, last_error
            FROM symphony_outbox WHERE state = 2 ORDER BY queued_ns, key
            """)
        var entries: [(entry: OutboxEntry, reason: String)] = []
        var unopened: [String] = []
        for row in 0..<rows.count {
            guard let entry = try opened(rows, row, sealer: sealer) else {
                unopened.append(rows.text(row, 0) ?? "")
                continue
            }
            entries.append((entry, rows.text(row, 9) ?? ""))
        }
        return (entries, unopened)
    }

    /// Queues the dead letters `entries` again with a fresh count of tries from `now`, leased to
    /// `node` for `lease`; returns them as queued (a key no longer dead is left out).
    public static func requeue(_ entries: [OutboxEntry], now: Timestamp, node: String, lease: Duration, on connection: PostgresConnection) throws -> [OutboxEntry] {
        guard !entries.isEmpty else { return [] }
        let rows = try connection.execute(
            """
            UPDATE symphony_outbox SET state = 0, attempts = 0, last_error = NULL, queued_ns = $2::bigint, next_ns = $2::bigint, claimed_by = $3,
                lease_until = clock_timestamp() + $4::bigint * interval '1 millisecond'
            WHERE state = 2 AND key = ANY($1::text[]) RETURNING key
            """, [.textArray(entries.map(\.key)), .int(now.nanosecondsSinceEpoch), .text(node), .int(lease.milliseconds)])
        let requeued = Set(rows.values.compactMap { $0[0] })
        return entries.filter { requeued.contains($0.key) }.map {
            OutboxEntry(
                key: $0.key, eventID: $0.eventID, eventType: $0.eventType, rule: $0.rule, request: $0.request, retry: $0.retry, gateKey: $0.gateKey,
                queued: now, attempts: 0, nextAttempt: now)
        }
    }

    /// Pending entries due by `now`, whoever holds them.
    public static func due(now: Timestamp, on connection: PostgresConnection) throws -> Int {
        Int(try connection.execute("SELECT count(*) FROM symphony_outbox WHERE state = 0 AND next_ns <= $1::bigint", [.int(now.nanosecondsSinceEpoch)]).int(0, 0) ?? 0)
    }
}
