import Synchronization
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

    public func fired(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws {
        if entry.interval == nil { _ = entries.withLock { $0.removeValue(forKey: entry.id) } }
    }
}
