import SymphonyEvents

/// The shared queue: a PostgreSQL table of sealed events that any node enqueues to and any node's
/// workers claim from.
///
/// - `enqueue` inserts envelopes (sealed as the in-memory queue seals them) and notifies
///   listeners on the channel `symphony_queue`, at commit.
/// - `claim` takes up to `limit` events no one holds — priority 0 (the most urgent) first, first
///   in first out within a priority, as the in-memory queue serves them — with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never take the same
///   event and never wait on each other. Each claim carries a lease; an event whose lease ran out
///   (its node died) is claimed again by whoever asks next.
/// - `complete` removes finished events, but only those the node still holds: called in the
///   transaction that records the handling, it makes the handling count exactly once (a node that
///   lost its lease rolls back, and the new holder's handling counts).
///
/// Ordering: within one claim, events come in priority order and FIFO within a priority. Across
/// claims, and so across nodes, handling overlaps: an event claimed later by another node may be
/// handled before one claimed earlier. Times come from the caller's clock (`now`), so a test can
/// run leases out without waiting.
///
/// The methods take a connection, so that a caller can join them with its own statements in one
/// transaction.
public enum PostgresEventQueue {
    /// The NOTIFY channel an enqueue signals.
    public static let channel = "symphony_queue"

    /// Queues `events` at `now`, all or none: inside the caller's transaction when there is one,
    /// else in one of its own.
    /// `notify: false` leaves listeners asleep (a busy worker queueing more work for itself).
    public static func enqueue(_ events: [SealedEvent], at now: Timestamp, on connection: PostgresConnection, notify: Bool = true) throws {
        guard !events.isEmpty else { return }
        guard connection.isInTransaction else {
            try connection.transaction { try enqueue(events, at: now, on: $0, notify: notify) }
            return
        }
        // Multi-row VALUES, at most 1,000 rows (5,000 parameters) per statement.
        for start in stride(from: 0, to: events.count, by: 1_000) {
            let chunk = events[start..<min(events.count, start + 1_000)]
            var placeholders: [String] = []
            var parameters: [PostgresParameter] = []
            parameters.reserveCapacity(chunk.count * 5)
            for event in chunk {
                let base = parameters.count
                placeholders.append("($\(base + 1)::smallint, $\(base + 2), $\(base + 3), $\(base + 4)::bytea, $\(base + 5)::bigint)")
                parameters += [.int(Int64(event.priority)), .text(event.id), .text(event.type), .bytes(event.envelope), .int(now.nanosecondsSinceEpoch)]
            }
            try connection.execute(
                "INSERT INTO symphony_queue (priority, event_id, event_type, envelope, enqueued_ns) VALUES " + placeholders.joined(separator: ", "),
                parameters)
        }
        if notify { try connection.execute("SELECT pg_notify('\(channel)', '')") }
    }

    /// Claims up to `limit` events for `node`, held until `now + lease`; in queue order.
    public static func claim(
        limit: Int, node: String, now: Timestamp, lease: Duration, on connection: PostgresConnection
    ) throws -> [QueueClaim] {
        let until = now.advanced(by: lease).nanosecondsSinceEpoch
        let rows = try connection.execute(
            """
            WITH picked AS MATERIALIZED (
                SELECT seq FROM symphony_queue
                WHERE lease_until_ns IS NULL OR lease_until_ns <= $3
                ORDER BY priority, seq
                LIMIT $4
                FOR UPDATE SKIP LOCKED)
            UPDATE symphony_queue q SET claimed_by = $1, lease_until_ns = $2, claims = q.claims + 1
            FROM picked WHERE q.seq = picked.seq
            RETURNING q.seq, q.priority, q.event_id, q.event_type, q.envelope, q.claims
            """,
            [.text(node), .int(until), .int(now.nanosecondsSinceEpoch), .int(Int64(limit))])
        var claims: [QueueClaim] = []
        claims.reserveCapacity(rows.count)
        for row in 0..<rows.count {
            let sealed = SealedEvent(
                id: rows.text(row, 2) ?? "", type: rows.text(row, 3) ?? "", priority: Int(try rows.int(row, 1) ?? 0),
                envelope: try rows.bytes(row, 4) ?? [])
            claims.append(QueueClaim(sequence: try rows.int(row, 0) ?? 0, sealed: sealed, claims: Int(try rows.int(row, 5) ?? 0)))
        }
        // RETURNING keeps no order: put the claim in queue order.
        claims.sort { $0.sealed.priority != $1.sealed.priority ? $0.sealed.priority < $1.sealed.priority : $0.sequence < $1.sequence }
        return claims
    }

    /// Removes the claimed events `sequences` that `node` still holds; returns how many it
    /// removed. Fewer than asked means some lease ran out and another node holds (or finished)
    /// those events: the caller's transaction should roll back.
    @discardableResult
    public static func complete(_ sequences: [Int64], node: String, on connection: PostgresConnection) throws -> Int {
        guard !sequences.isEmpty else { return 0 }
        return try connection.execute(
            "DELETE FROM symphony_queue WHERE seq = ANY($1::bigint[]) AND claimed_by = $2", [.intArray(sequences), .text(node)]
        ).affected
    }

    /// Extends the leases `node` holds on `sequences` to `now + lease`; returns how many it still held.
    @discardableResult
    public static func renew(_ sequences: [Int64], node: String, now: Timestamp, lease: Duration, on connection: PostgresConnection) throws -> Int {
        guard !sequences.isEmpty else { return 0 }
        return try connection.execute(
            "UPDATE symphony_queue SET lease_until_ns = $3 WHERE seq = ANY($1::bigint[]) AND claimed_by = $2",
            [.intArray(sequences), .text(node), .int(now.advanced(by: lease).nanosecondsSinceEpoch)]
        ).affected
    }

    /// Events queued and not finished, per priority (claimed ones included).
    public static func depth(on connection: PostgresConnection) throws -> [Int: Int] {
        let rows = try connection.execute("SELECT priority, count(*) FROM symphony_queue GROUP BY priority")
        var depth: [Int: Int] = [:]
        for row in 0..<rows.count { depth[Int(try rows.int(row, 0) ?? 0)] = Int(try rows.int(row, 1) ?? 0) }
        return depth
    }
}
