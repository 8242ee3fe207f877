/// The keys an `EnvelopeSealer` knows: one active key that seals new data, and older keys that still open old data.
public struct KeyRing: Sendable {
    /// The key new envelopes are sealed with.
    public let activeKey: EncryptionKey
    private let keysByID: [UInt32: EncryptionKey]

    /// A ring that seals with `active` and opens envelopes sealed with `active` or any of `retired`.
    public init(active: EncryptionKey, retired: [EncryptionKey] = []) {
        activeKey = active
        var keys: [UInt32: EncryptionKey] = [:]
        for key in retired { keys[key.id] = key }
        keys[active.id] = active
        keysByID = keys
    }

    /// The key with this id, if the ring holds it.
    public func key(withID id: UInt32) -> EncryptionKey? { keysByID[id] }

    /// The ids of every key in the ring, sorted.
    public var keyIDs: [UInt32] { keysByID.keys.sorted() }
}
