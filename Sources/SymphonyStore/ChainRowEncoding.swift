import SymphonyCrypto
import SymphonyRecords

/// The canonical bytes of a history row, which a chain link's digests cover (docs/reference/history-database.md,
/// "The chain"). The writer encodes the values it binds and `ChainVerifier` the values it reads
/// back, through these same functions, so the two agree byte for byte.
///
/// Each column is one tagged field: `0x00` for NULL; `0x01` and 8 big-endian bytes (two's
/// complement) for an integer; `0x02`, a 4-byte big-endian length and the UTF-8 bytes for text;
/// `0x03`, a 4-byte length and the bytes for a blob. A row is its columns in the documented
/// order, with no separator: every field says its own length.
struct ChainRowEncoding {
    /// The bytes so far.
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    // The writer thread encodes every row it writes: these append whole byte runs, never one
    // byte at a time through a generic collection.

    mutating func integer(_ value: Int64?) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func text(_ value: String?) {
        guard var value else { return bytes.append(0) }
        value.withUTF8 { utf8 in
            bytes.append(2)
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func blob(_ value: [UInt8]?) {
        guard let value else { return bytes.append(0) }
        bytes.append(3)
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value.count).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value)
    }

    /// Appends bytes another encoding made (a row encoded on the thread that recorded it).
    mutating func append(encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }

    /// Forgets the bytes, keeping the buffer.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// SHA-256 of the bytes.
    var digest: [UInt8] { SHA256.hash(bytes) }

    /// SHA-256 of these bytes followed by `other`'s (the `scheduled` digest: entries, then changes).
    func digest(followedBy other: ChainRowEncoding) -> [UInt8] { SHA256.hash(bytes + other.bytes) }

    // One function per table, columns in the documented order. The link column is not encoded: a
    // row belongs to the link whose digest covers it.

    /// `events`: id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload.
    mutating func event(
        id: String, type: String, priority: Int64, source: String?, receivedNS: Int64, timeNS: Int64, parentID: String?, rule: String?, hop: Int64,
        payload: [UInt8]?
    ) {
        text(id)
        text(type)
        integer(priority)
        text(source)
        integer(receivedNS)
        integer(timeNS)
        text(parentID)
        text(rule)
        integer(hop)
        blob(payload)
    }

    /// `executions`: event_id, rule, kind, outcome, error, message, started_ns, duration_us,
    /// derived_event_id. Not `seq`: the rows' order in the digest is theirs by `seq`, so
    /// renumbering or swapping rows still changes the digest.
    mutating func execution(
        eventID: String, rule: String, kind: Int64, outcome: Int64, error: String?, message: String?, startedNS: Int64, durationMicroseconds: Int64,
        derivedEventID: String?, key: String?
    ) {
        text(eventID)
        text(rule)
        integer(kind)
        integer(outcome)
        text(error)
        text(message)
        integer(startedNS)
        integer(durationMicroseconds)
        text(derivedEventID)
        if let key { text(key) }  // added in schema 7: NULL adds nothing
    }

    /// `scheduled` (the columns that never change): id, interval_ns, event_id, event_type, priority, origin_rule, envelope,
    /// and key only when it is not NULL (a column added in schema 7: rows without one encode as before).
    mutating func scheduledEntry(_ row: ScheduledInsert) {
        text(row.id)
        integer(row.intervalNS)
        text(row.eventID)
        text(row.eventType)
        integer(row.priority)
        text(row.originRule)
        blob(row.envelope)
        if let key = row.key { text(key) }
    }

    /// `scheduled_changes`: seq, entry_id, state, due_ns, fired_ns, late.
    mutating func scheduledChange(sequence: Int64, _ row: ScheduledChange) {
        integer(sequence)
        text(row.entryID)
        integer(row.state.rawValue)
        integer(row.dueNS)
        integer(row.firedNS)
        integer(row.late ? 1 : 0)
    }

    /// `dead_letters`: seq, source, line, reason, received_ns, content.
    mutating func deadLetter(sequence: Int64, _ row: DeadLetterInsert) {
        integer(sequence)
        text(row.source)
        integer(row.line)
        text(row.reason)
        integer(row.receivedNS)
        blob(row.content)
    }

    /// `audit`: seq, time_ns, principal, operation, target, outcome, details.
    mutating func audit(_ record: AuditRecord) {
        integer(record.sequence)
        integer(record.time.nanosecondsSinceEpoch)
        text(record.principal)
        text(record.operation.rawValue)
        text(record.target)
        text(record.outcome)
        text(record.details)
    }
}
