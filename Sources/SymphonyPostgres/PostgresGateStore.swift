import SymphonyEvents
import SymphonyJSON
import SymphonyRecords

/// The state of rules with memory (`count:`, `throttle:`, `after:`) that every node of a cluster
/// shares: one row per gate slot (rule, gate, key) in `symphony_gates`.
///
/// A batch takes the slots' locks (`PostgresLocks`) before it reads them and writes them back
/// in the same transaction, so two nodes never count one key at once: a key is counted in one
/// place, one batch after another. Each row keeps the gate's settings; a row stored under other
/// settings (the rule changed) reads as empty. A gate holding more than its `max_keys` rows is
/// swept (`sweep`). Keys are stored as `PostgresText.storable` makes them.
public enum PostgresGateStore {
    /// Reads the stored state of `slots` (locked by the caller) whose settings are as `settings`
    /// says. A row whose state cannot be read (altered in the database) reads as empty, and is
    /// passed to `unreadable`; the next save of the slot replaces it.
    public static func load(
        _ slots: [GateSlot], settings: (GateSlot) -> String?, unreadable: (GateSlot) -> Void = { _ in }, on connection: PostgresConnection
    ) throws -> [GateSlot: GateRecord] {
        guard !slots.isEmpty else { return [:] }
        // Each stored form, back to the slots the caller named (two may share one).
        var named: [GateSlot: [GateSlot]] = [:]
        for slot in slots { named[stored(slot), default: []].append(slot) }
        let slots = Array(named.keys)
        let rows = try connection.execute(
            """
            SELECT g.rule, g.gate, g.key, g.settings, g.state FROM symphony_gates g
            JOIN unnest($1::text[], $2::text[], $3::text[]) AS s(rule, gate, key) USING (rule, gate, key)
            """,
            [.textArray(slots.map(\.rule)), .textArray(slots.map(\.kind.rawValue)), .textArray(slots.map(\.key))])
        var records: [GateSlot: GateRecord] = [:]
        for row in 0..<rows.count {
            guard let rule = rows.text(row, 0), let kind = rows.text(row, 1).flatMap(GateSlot.Kind.init(rawValue:)), let key = rows.text(row, 2)
            else { continue }
            for slot in named[GateSlot(rule: rule, kind: kind, key: key)] ?? [] {
                guard rows.text(row, 3) == settings(slot), let state = rows.text(row, 4) else { continue }
                guard let record = try? decode(state, kind: kind) else {
                    unreadable(slot)
                    continue
                }
                records[slot] = record
            }
        }
        return records
    }

    /// Stores each slot's record, and removes the rows of slots whose record is nil, in the caller's transaction.
    public static func save(_ records: [(slot: GateSlot, record: GateRecord?)], settings: (GateSlot) -> String?, on connection: PostgresConnection) throws {
        let kept = records.compactMap { entry in entry.record.map { (slot: entry.slot, record: $0) } }
        let gone = records.filter { $0.record == nil }.map { stored($0.slot) }
        if !kept.isEmpty {
            try connection.execute(
                """
                INSERT INTO symphony_gates (rule, gate, key, settings, state, newest_ns)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                ON CONFLICT (rule, gate, key) DO UPDATE SET settings = EXCLUDED.settings, state = EXCLUDED.state, newest_ns = EXCLUDED.newest_ns
                """,
                [
                    .textArray(kept.map(\.slot.rule)), .textArray(kept.map(\.slot.kind.rawValue)), .textArray(kept.map { stored($0.slot).key }),
                    .textArray(kept.map { settings($0.slot) ?? "" }), .textArray(kept.map { encode($0.record) }), .intArray(kept.map(\.record.newest)),
                ])
        }
        if !gone.isEmpty {
            try connection.execute(
                "DELETE FROM symphony_gates WHERE (rule, gate, key) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))",
                [.textArray(gone.map(\.rule)), .textArray(gone.map(\.kind.rawValue)), .textArray(gone.map(\.key))])
        }
    }

    /// Keeps `rule`'s `kind` gate within `maxKeys` rows, as one node keeps its memory: when it
    /// holds more, rows that can no longer fire, pair or suppress (newest time more than `horizon`,
    /// the gate's window or period, before the newest of any of its rows) go first, then those
    /// with the oldest newest times: as many as it is over, and at least a tenth. Rows a batch is writing meanwhile are left for the next
    /// sweep. Returns how many rows it removed.
    @discardableResult
    public static func sweep(rule: String, kind: GateSlot.Kind, horizon: Duration, maxKeys: Int, on connection: PostgresConnection) throws -> Int {
        try connection.transaction { connection in
            let held = try connection.execute(
                "SELECT count(*), max(newest_ns) FROM symphony_gates WHERE rule = $1 AND gate = $2", [.text(rule), .text(kind.rawValue)])
            let count = Int(try held.int(0, 0) ?? 0)
            guard count > maxKeys, let newest = try held.int(0, 1) else { return 0 }
            let (oldest, overflow) = newest.subtractingReportingOverflow(horizon.nanoseconds)
            var removed = try connection.execute(
                """
                DELETE FROM symphony_gates WHERE ctid IN (
                    SELECT ctid FROM symphony_gates WHERE rule = $1 AND gate = $2 AND newest_ns < $3::bigint FOR UPDATE SKIP LOCKED)
                """, [.text(rule), .text(kind.rawValue), .int(overflow ? .min : oldest)]
            ).affected
            if count - removed > maxKeys {
                removed += try connection.execute(
                    """
                    DELETE FROM symphony_gates WHERE ctid IN (
                        SELECT ctid FROM symphony_gates WHERE rule = $1 AND gate = $2 ORDER BY newest_ns LIMIT $3 FOR UPDATE SKIP LOCKED)
                    """, [.text(rule), .text(kind.rawValue), .int(Int64(max(count - removed - maxKeys, maxKeys / 10, 1)))]
                ).affected
            }
            return removed
        }
    }

    /// Every stored slot of `rule` under its current `settings`, with its record, most recent first.
    public static func state(of rule: String, settings: (GateSlot) -> String?, on connection: PostgresConnection) throws -> [(slot: GateSlot, record: GateRecord)] {
        let rows = try connection.execute(
            "SELECT gate, key, settings, state FROM symphony_gates WHERE rule = $1 ORDER BY newest_ns DESC, gate, key", [.text(rule)])
        var states: [(slot: GateSlot, record: GateRecord)] = []
        for row in 0..<rows.count {
            guard let kind = rows.text(row, 0).flatMap(GateSlot.Kind.init(rawValue:)), let key = rows.text(row, 1) else { continue }
            let slot = GateSlot(rule: rule, kind: kind, key: key)
            guard rows.text(row, 2) == settings(slot), let state = rows.text(row, 3) else { continue }
            states.append((slot, try decode(state, kind: kind)))
        }
        return states
    }

    /// `slot` as stored: its key storable.
    static func stored(_ slot: GateSlot) -> GateSlot {
        GateSlot(rule: slot.rule, kind: slot.kind, key: PostgresText.storable(slot.key))
    }

    // MARK: The state column (JSON)

    /// `{"times":[…],"ids":[…]}` for windows and waiting events, `{"fired":…,"suppressed":…}` for throttles.
    static func encode(_ record: GateRecord) -> String {
        var text = ""
        switch record {
        case .window(let times, let ids), .waiting(let times, let ids):
            text += #"{"times":["# + times.map(String.init).joined(separator: ",") + #"],"ids":["#
            for (index, id) in ids.enumerated() {
                if index > 0 { text += "," }
                JSONValue.writeString(id, to: &text)
            }
            text += "]}"
        case .throttle(let lastFired, let suppressed):
            text += #"{"fired":\#(lastFired),"suppressed":\#(suppressed)}"#
        }
        return text
    }

    static func decode(_ text: String, kind: GateSlot.Kind) throws -> GateRecord {
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(text.utf8))
        } catch {
            throw PostgresError(message: "a symphony_gates row's state is not JSON (\(error))")
        }
        func ints(_ name: String) -> [Int64]? {
            guard case .array(let items)? = value.child(name) else { return nil }
            return items.compactMap { if case .int(let number) = $0 { number } else { nil } }
        }
        func strings(_ name: String) -> [String]? {
            guard case .array(let items)? = value.child(name) else { return nil }
            return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }
        switch kind {
        case .count, .after:
            guard let times = ints("times"), let ids = strings("ids") else { break }
            return kind == .count ? .window(times: times, ids: ids) : .waiting(times: times, ids: ids)
        case .throttle:
            guard case .int(let fired)? = value.child("fired"), case .int(let suppressed)? = value.child("suppressed") else { break }
            return .throttle(lastFired: fired, suppressed: Int(clamping: suppressed))
        }
        throw PostgresError(message: "a symphony_gates row's state is not a \(kind.rawValue) gate's")
    }
}
