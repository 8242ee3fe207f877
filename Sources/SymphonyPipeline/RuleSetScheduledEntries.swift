import SymphonyConcurrency
import SymphonyEvents

/// The pending delayed events of one rule set: a view of a shared store in which a run loads
/// only the entries its own rules made (and those no rule made), so a rule set run in the same
/// state directory never fires — and loses, with no rule to handle it — another rule set's
/// delayed events. The others stay pending, counted by the rule that made them.
final class RuleSetScheduledEntries: ScheduledEntryStore {
    private let store: any ScheduledEntryStore
    private let rules: Set<String>
    private let others = Locked<[String: Int]>([:])

    /// A view of `store` for a rule set with these rule names.
    init(_ store: any ScheduledEntryStore, rules: Set<String>) {
        self.store = store
        self.rules = rules
    }

    /// Pending entries made by rules not in this rule set, by rule, as found when the run loaded them.
    var otherRuleSets: [String: Int] { others.withLock { $0 } }

    func loadPending() throws -> [ScheduledEntry] {
        var mine: [ScheduledEntry] = []
        var others: [String: Int] = [:]
        for entry in try store.loadPending() {
            if let rule = entry.event.causation?.rule, !rules.contains(rule) {
                others[rule, default: 0] += 1
            } else {
                mine.append(entry)
            }
        }
        self.others.withLock { $0 = others }
        return mine
    }

    func save(_ entry: ScheduledEntry) throws { try store.save(entry) }
    func cancel(_ id: ScheduleID) throws { try store.cancel(id) }
    func firedPeriodic(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws { try store.firedPeriodic(entry, event: event, at: time) }
    func completeFired(_ fired: FiredEntry, event: Event) throws { try store.completeFired(fired, event: event) }
    var keepsSealedEvents: Bool { store.keepsSealedEvents }
}
