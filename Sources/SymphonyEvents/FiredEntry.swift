/// A one-shot scheduled entry whose event was published: it stays pending until that event was
/// handled and the entry completed (`ScheduledEntryStore.completeFired(_:event:)`).
///
/// The dispatcher hands it, with the event, to handlers subscribed with
/// `EventSystem.subscribe(_:completingFiredEntries:)`; it holds no plaintext of the event.
public struct FiredEntry: Sendable, Hashable {
    /// The entry's id.
    public let id: ScheduleID
    /// The id of the event it published.
    public let eventID: String
    /// When it was due.
    public let due: Timestamp
    /// When it fired (read just before its event was published).
    public let firedAt: Timestamp
    /// The event as sealed for the queue and storage, when it was (see `ScheduledEntry.sealed`).
    public let sealed: SealedEvent?

    /// How late a firing must be to count as late.
    public static let lateness: Duration = .seconds(1)

    /// A fired entry.
    public init(id: ScheduleID, eventID: String, due: Timestamp, firedAt: Timestamp, sealed: SealedEvent? = nil) {
        self.id = id
        self.eventID = eventID
        self.due = due
        self.firedAt = firedAt
        self.sealed = sealed
    }

    /// True when it fired more than `lateness` after its due time.
    public var isLate: Bool { due.advanced(by: Self.lateness) < firedAt }
}
