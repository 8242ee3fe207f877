import SymphonyEvents

/// What scheduling a keyed delayed event did.
public enum KeyedDelay: Sendable {
    /// Scheduled; no event of its key was pending. `sealed` as for `ActionEffects.schedule(_:at:)`.
    case scheduled(sealed: SealedEvent?)
    /// Scheduled in place of `cancelled`, the key's pending event.
    case replaced(sealed: SealedEvent?, cancelled: Event)
    /// Nothing scheduled: `pending`, the key's pending event, stays.
    case kept(pending: Event)
}
