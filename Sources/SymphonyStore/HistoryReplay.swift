import SymphonyCrypto
import SymphonyEvents

/// Reading back the events rules with memory rebuild their state from (see
/// `HistoryRecorder.handledEvents(within:isRelevant:)`), for a run and for `history --state`.
enum HistoryReplay {
    /// The recorded events not in `unhandled` and not pending as delayed events, whose type
    /// `isRelevant` accepts and whose time is within `horizon` of the newest event of those types
    /// (recorded but unhandled ones included), in recording order, opened with `sealer`; `unopenable` hears the id of each that does not open.
    static func handledEvents(
        in database: SQLiteDatabase, sealer: EnvelopeSealer, excluding unhandled: Set<String>, within horizon: Duration,
        isRelevant: (String) -> Bool, unopenable: (String) -> Void
    ) throws -> [Event] {
        // The newest time among the relevant types (SQLite aggregates; Swift sees one row per
        // type), then only the rows within the horizon of it, in recording order.
        // Delayed events still pending are left out (their time is when they are due).
        let newestByType = try database.prepare(
            """
            SELECT type, max(time_ns) FROM events
            WHERE payload IS NOT NULL AND id NOT IN (SELECT event_id FROM scheduled WHERE state = 'pending') GROUP BY type
            """
        ).rows([]) {
            (type: $0.text(0) ?? "", time: $0.int(1))
        }
        guard let newest = newestByType.filter({ isRelevant($0.type) }).map(\.time).max() else { return [] }
        let (oldest, overflow) = newest.subtractingReportingOverflow(horizon.nanoseconds)
        let candidates = try database.prepare(
            """
            SELECT rowid, id, type, time_ns FROM events
            WHERE time_ns >= ? AND payload IS NOT NULL AND id NOT IN (SELECT event_id FROM scheduled WHERE state = 'pending')
            ORDER BY rowid
            """
        ).rows([.int(overflow ? .min : oldest)]) { (rowid: $0.int(0), id: $0.text(1) ?? "", type: $0.text(2) ?? "", time: $0.int(3)) }
        let relevant = candidates.filter { isRelevant($0.type) && !unhandled.contains($0.id) }
        let statement = try database.prepare("SELECT id, type, priority, payload FROM events WHERE rowid = ?")
        var events: [Event] = []
        for candidate in relevant {
            try statement.bind([.int(candidate.rowid)])
            guard try statement.step() else { continue }
            guard let envelope = statement.blob(3),
                let event = try? SealedEvent(
                    id: candidate.id, type: candidate.type, priority: Int(statement.int(2)), envelope: envelope
                ).open(with: sealer)
            else {
                unopenable(candidate.id)
                continue
            }
            events.append(event)
        }
        return events
    }
}
