import SymphonyEvents

/// An event a node claimed from the shared queue: its place in the queue and its envelope.
public struct QueueClaim: Sendable, Hashable {
    /// Its position in the queue (first in, first out within a priority).
    public let sequence: Int64
    /// The event as sealed when it was queued.
    public let sealed: SealedEvent
    /// How many times it has been claimed, this claim included: more than 1 when a node that
    /// claimed it before died (or let its lease run out) without finishing it.
    public let claims: Int
}
