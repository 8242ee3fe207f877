/// The id of a scheduled entry; stable across restarts when the entry is stored.
public struct ScheduleID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id's text.
    public let rawValue: String

    /// An id from its text.
    public init(rawValue: String) { self.rawValue = rawValue }

    public static func < (lhs: ScheduleID, rhs: ScheduleID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// An event the scheduler will publish when it is due, once or every `interval`.
public struct ScheduledEntry: Sendable, Hashable {
    /// The entry's id.
    public let id: ScheduleID
    /// The event to publish (a periodic entry publishes a copy with a fresh id each time).
    public var event: Event
    /// When the entry fires next.
    public var due: Timestamp
    /// The period of a periodic entry; nil for a one-shot entry.
    public var interval: Duration?

    /// An entry.
    public init(id: ScheduleID, event: Event, due: Timestamp, interval: Duration? = nil) {
        self.id = id
        self.event = event
        self.due = due
        self.interval = interval
    }
}

/// Where the scheduler keeps pending entries so that they survive a restart.
///
/// The scheduler saves an entry before `schedule` returns, saves it again when a periodic entry
/// moves to its next due time, reports each firing after the event was published, and cancels
/// entries on request. Calls come from any thread.
public protocol ScheduledEntryStore: Sendable {
    /// Every entry that has not fired or been cancelled.
    func loadPending() throws -> [ScheduledEntry]
    /// Inserts or replaces an entry.
    func save(_ entry: ScheduledEntry) throws
    /// Marks an entry cancelled.
    func cancel(_ id: ScheduleID) throws
    /// Called just before `event` is published for `entry` (so before any worker can handle it).
    /// A durable store that marks a one-shot entry done only once its event was handled (see
    /// `processed(eventID:)`) starts waiting for it here; if the publish then fails, `fired` is
    /// not called and the entry stays pending.
    func willFire(_ entry: ScheduledEntry, event: Event, at time: Timestamp)
    /// Records that `entry` fired at `time` and `event` was published; a one-shot entry is no longer pending.
    func fired(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws
    /// Called on the worker after every handler of the event `eventID` has run (for every
    /// delivered event, fired by the scheduler or not).
    func processed(eventID: String)
}

extension ScheduledEntryStore {
    /// Nothing to prepare: the entry is done when it fired.
    public func willFire(_ entry: ScheduledEntry, event: Event, at time: Timestamp) {}
    /// Nothing to complete: the entry was done when it fired.
    public func processed(eventID: String) {}
}
