import SymphonyConcurrency

/// A scheduled-entry store that lives only as long as the process (the default until a durable store is configured).
public final class InMemoryScheduledEntryStore: ScheduledEntryStore {
    private let entries = Locked<[ScheduleID: ScheduledEntry]>([:])

    /// An empty store.
    public init() {}

    public func loadPending() throws -> [ScheduledEntry] {
        entries.withLock { $0.values.sorted { ($0.due, $0.id) < ($1.due, $1.id) } }
    }

    public func save(_ entry: ScheduledEntry) throws {
        entries.withLock { $0[entry.id] = entry }
    }

    public func cancel(_ id: ScheduleID) throws {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// Nothing to record: the entry stays pending at its next due time.
    public func firedPeriodic(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws {}

    /// False: entries live in memory with their events, so an envelope would protect nothing here.
    public var keepsSealedEvents: Bool { false }

    /// The entry is no longer pending.
    public func completeFired(_ fired: FiredEntry, event: Event) throws {
        _ = entries.withLock { $0.removeValue(forKey: fired.id) }
    }
}
