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
    /// A one-shot entry's event sealed once (`SealedEvent`), when it was: a durable store keeps
    /// this envelope, the history stores it as the event's payload, and the queue takes it as is
    /// when the entry fires, instead of each sealing the event again. Not part of equality: it is
    /// another form of `event`.
    public var sealed: SealedEvent?
    /// The key of a keyed one-shot entry (a `delay` with `key:`): at most one pending entry per
    /// key, and `cancel(key:)` finds it.
    public var key: String?

    /// An entry.
    public init(id: ScheduleID, event: Event, due: Timestamp, interval: Duration? = nil, sealed: SealedEvent? = nil, key: String? = nil) {
        self.id = id
        self.event = event
        self.due = due
        self.interval = interval
        self.sealed = sealed
        self.key = key
    }

    public static func == (lhs: ScheduledEntry, rhs: ScheduledEntry) -> Bool {
        lhs.id == rhs.id && lhs.event == rhs.event && lhs.due == rhs.due && lhs.interval == rhs.interval && lhs.key == rhs.key
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(event)
        hasher.combine(due)
        hasher.combine(interval)
        hasher.combine(key)
    }

    /// `sealed` when it is this entry's event sealed (same id, type and priority), else nil.
    public var sealedEvent: SealedEvent? {
        guard let sealed, sealed.id == event.id, sealed.type == event.type, sealed.priority == event.priority else { return nil }
        return sealed
    }
}

/// Where the scheduler keeps pending entries so that they survive a restart.
///
/// The scheduler saves an entry before `schedule` returns, saves it again when a periodic entry
/// moves to its next due time, reports each periodic firing, and cancels entries on request. A
/// one-shot entry that fired stays pending until `completeFired` is called for it — once its
/// event was handled — so an entry whose event was published but never handled (the process
/// died) fires again after a restart. Calls come from any thread.
public protocol ScheduledEntryStore: Sendable {
    /// Every entry that has not fired or been cancelled, in the order they were stored where the
    /// store can tell (of two pending entries with one key, the scheduler keeps the later).
    func loadPending() throws -> [ScheduledEntry]
    /// Inserts or replaces an entry.
    func save(_ entry: ScheduledEntry) throws
    /// Marks an entry cancelled.
    func cancel(_ id: ScheduleID) throws
    /// Records that the periodic `entry` fired at `time` and `event` (a copy with a fresh id) was
    /// published; the entry stays pending (its next due time comes with `save`).
    func firedPeriodic(_ entry: ScheduledEntry, event: Event, at time: Timestamp) throws
    /// Marks the fired one-shot entry `fired` done: `event`, which it published, was handled, so
    /// it never fires again. Whoever records that handling calls it (a `HistoryRecorder` commits
    /// the mark together with the handling's records); completing an entry twice does nothing.
    func completeFired(_ fired: FiredEntry, event: Event) throws
    /// True when `save` keeps a one-shot entry's envelope (`ScheduledEntry.sealed`), as a durable
    /// store does. A store that does not lets the scheduler seal a delay that a handler makes
    /// already due together with the handler's other events, instead of in an envelope of its own.
    var keepsSealedEvents: Bool { get }
}

extension ScheduledEntryStore {
    /// Stores keep envelopes unless they say otherwise.
    public var keepsSealedEvents: Bool { true }
}
