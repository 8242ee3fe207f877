import SymphonyEvents
import SymphonyCrypto

/// The shared queue: a PostgreSQL table of sealed events that any node enqueues to and any node's
/// workers claim from.
///
/// - `enqueue` inserts envelopes (sealed as the in-memory queue seals them) and notifies
///   listeners on the channel `symphony_queue`, at commit.
/// - `claim` takes up to `limit` events no one holds — priority 0 (the most urgent) first, first
///   in first out within a priority, as the in-memory queue serves them — with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never take the same
///   event and never wait on each other. Each claim carries a lease; an event whose lease ran out
///   (its node died) is claimed again by whoever asks next. A claim may keep to one lane (the
///   lane of the events' first key) that no other transaction claims from meanwhile.
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

    // MARK: Lanes

    /// How many lanes the queue has.
    public static let laneCount = 64

    /// The lane of events whose first gate or delay key is `key` (as stored: `PostgresText`). Events of one lane are claimed
    /// by one worker at a time, so workers handling different lanes rarely wait for each other's
    /// key locks, and a lane's events are handled in queue order.
    public static func lane(ofKey key: String) -> Int {
        Int(SHA256.hash(Array(PostgresText.storable(key).utf8)).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % UInt64(laneCount))
    }

    /// The advisory lock a worker holds, for its claim's transaction, on the lane it claims from
    /// ("SYMLANE" in ASCII, then the lane).
    static func laneLock(_ lane: Int) -> Int64 { 0x5359_4D4C_414E_4500 + Int64(lane) }

    // MARK: Queueing and claiming

    /// Queues `events` at `now`, all or none: inside the caller's transaction when there is one,
    /// else in one of its own. `lanes` gives each event's lane (none: no lane).
    /// `notify: false` leaves listeners asleep (a busy worker queueing more work for itself).
    public static func enqueue(
        _ events: [SealedEvent], lanes: [Int?] = [], at now: Timestamp, on connection: PostgresConnection, notify: Bool = true
    ) throws {
        guard !events.isEmpty else { return }
        guard connection.isInTransaction else {
            try connection.transaction { try enqueue(events, lanes: lanes, at: now, on: $0, notify: notify) }
            return
        }
        // Multi-row VALUES, at most 1,000 rows (5,000 parameters) per statement.
        for start in stride(from: 0, to: events.count, by: 1_000) {
            let chunk = events[start..<min(events.count, start + 1_000)]
            var placeholders: [String] = []
            var parameters: [PostgresParameter] = []
            parameters.reserveCapacity(chunk.count * 6)
            for (offset, event) in chunk.enumerated() {
                let base = parameters.count
                let lane = start + offset < lanes.count ? lanes[start + offset] : nil
                placeholders.append(
                    "($\(base + 1)::smallint, $\(base + 2), $\(base + 3), $\(base + 4)::bytea, $\(base + 5)::bigint, $\(base + 6)::smallint)")
                parameters += [
                    .int(Int64(event.priority)), .text(event.id), .text(event.type), .bytes(event.envelope), .int(now.nanosecondsSinceEpoch),
                    lane.map { .int(Int64($0)) } ?? .null,
                ]
            }
            try connection.execute(
                "INSERT INTO symphony_queue (priority, event_id, event_type, envelope, enqueued_ns, lane) VALUES " + placeholders.joined(separator: ", "),
                parameters)
        }
        if notify { try connection.execute("SELECT pg_notify('\(channel)', '')") }
    }

    /// Claims up to `limit` events for `node`, held until `now + lease`; in queue order.
    ///
    /// With `laneFrom`, the claim takes events of no lane and of one lane only: the first lane,
    /// counting from `laneFrom`, that has events and that no other transaction claims from (its
    /// lock, `laneLock`, is then held until the caller's transaction ends). Without, it takes
    /// events of any lane.
    public static func claim(
        limit: Int, node: String, now: Timestamp, lease: Duration, laneFrom: Int? = nil, on connection: PostgresConnection
    ) throws -> [QueueClaim] {
        let until = now.advanced(by: lease).nanosecondsSinceEpoch
        let lanes =
            laneFrom == nil
            ? "" : """
                lane AS MATERIALIZED (
                    SELECT (g + $5) % \(laneCount) AS l FROM generate_series(0, \(laneCount - 1)) AS g
                    WHERE CASE WHEN EXISTS (
                            SELECT 1 FROM symphony_queue WHERE lane = (g + $5) % \(laneCount) AND (lease_until_ns IS NULL OR lease_until_ns <= $3))
                        THEN pg_try_advisory_xact_lock(\(laneLock(0))::bigint + (g + $5) % \(laneCount)) ELSE false END
                    LIMIT 1),
                """
        let rows = try connection.execute(
            """
            WITH \(lanes) picked AS MATERIALIZED (
                SELECT seq FROM symphony_queue
                WHERE (lease_until_ns IS NULL OR lease_until_ns <= $3)\(laneFrom == nil ? "" : " AND (lane IS NULL OR lane = (SELECT l FROM lane))")
                ORDER BY priority, seq
                LIMIT $4
                FOR UPDATE SKIP LOCKED)
            UPDATE symphony_queue q SET claimed_by = $1, lease_until_ns = $2, claims = q.claims + 1
            FROM picked WHERE q.seq = picked.seq
            RETURNING q.seq, q.priority, q.event_id, q.event_type, q.envelope, q.claims
            """,
            [.text(node), .int(until), .int(now.nanosecondsSinceEpoch), .int(Int64(limit))] + (laneFrom.map { [.int(Int64($0))] } ?? []))
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
