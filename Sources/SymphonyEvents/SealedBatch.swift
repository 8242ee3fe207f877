import SymphonyCrypto

/// Events of one priority queued together under one envelope, when encryption is on.
///
/// Sealing and opening cost mostly per envelope, not per byte, so the events read together are
/// sealed as one: their ids and types travel in the clear beside the envelope (the queue and the
/// dead-letter sink read them without the key), and every one of them, with the priority, is the
/// envelope's associated data — changing, reordering, adding or removing one makes the envelope
/// fail to open.
///
/// The plaintext is a version byte followed by each event's body (`EventBodyCodec`), each
/// preceded by its byte count:
/// ```
/// batch := u8 version (1) · (u32 byte-count · body){count}
/// ```
/// The context is domain `symphony.batch.v1` with fields decimal priority, then each event's id
/// and type in order (`docs/reference/envelope-format.md`).
public struct SealedBatch: Sendable, Hashable {
    /// The priority every event of the batch has (the queue orders on it).
    public var priority: Int
    /// The events' ids, in order.
    public var ids: [String]
    /// The events' types, in the same order.
    public var types: [String]
    /// A version-1 envelope holding the events' bodies.
    public var envelope: [UInt8]

    static let version: UInt8 = 1

    /// How many events the batch holds.
    public var count: Int { ids.count }

    /// The envelope context of a batch: domain `symphony.batch.v1`, fields decimal priority, then id and type of each event.
    public static func context(priority: Int, ids: [String], types: [String]) -> EnvelopeContext {
        precondition(ids.count == types.count, "a batch has one type per id")
        var fields: [String] = []
        fields.reserveCapacity(1 + 2 * ids.count)
        fields.append(String(priority))
        for index in ids.indices {
            fields.append(ids[index])
            fields.append(types[index])
        }
        return EnvelopeContext(domain: "symphony.batch.v1", fields: fields)
    }

    /// Seals `events`, which must all have `priority`, as one batch.
    public init(sealing events: [Event], priority: Int, with sealer: EnvelopeSealer) throws {
        try self.init(sealing: events[...], priority: priority, with: sealer)
    }

    /// Seals `events`, which must all have `priority`, as one batch.
    public init(sealing events: ArraySlice<Event>, priority: Int, with sealer: EnvelopeSealer) throws {
        self = try events.withUnsafeBufferPointer { events in
            try SealedBatch(sealing: events, at: Array(events.indices), priority: priority, with: sealer)
        }
    }

    /// Seals the events of `events` at `indices`, in that order, which must all have `priority`,
    /// as one batch. The events are read in place: iterating a collection of events would copy each.
    package init(sealing events: UnsafeBufferPointer<Event>, at indices: [Int], priority: Int, with sealer: EnvelopeSealer) throws {
        self.priority = priority
        var ids: [String] = []
        var types: [String] = []
        ids.reserveCapacity(indices.count)
        types.reserveCapacity(indices.count)
        var plaintext: [UInt8] = [Self.version]
        plaintext.reserveCapacity(indices.reduce(1) { $0 + 96 + (events[$1].encodedPayload?.bytes.count ?? 64) })
        for index in indices {
            precondition(events[index].priority == priority, "every event of a batch has the batch's priority")
            ids.append(events[index].id)
            types.append(events[index].type)
            let lengthAt = plaintext.count
            BigEndianBytes.append(UInt32(0), to: &plaintext)  // filled in once the body is written
            try EventBodyCodec.encodeForSealing(events[index], into: &plaintext)
            let length = UInt32(plaintext.count - lengthAt - 4)
            plaintext.withUnsafeMutableBytes { bytes in
                bytes.storeBytes(of: length.bigEndian, toByteOffset: lengthAt, as: UInt32.self)
            }
        }
        self.ids = ids
        self.types = types
        envelope = try sealer.seal(plaintext, context: Self.context(priority: priority, ids: ids, types: types))
    }

    /// A batch from its parts.
    public init(priority: Int, ids: [String], types: [String], envelope: [UInt8]) {
        self.priority = priority
        self.ids = ids
        self.types = types
        self.envelope = envelope
    }

    /// Opens the envelope and rebuilds the events, in order; throws when anything was altered or the key is wrong.
    public func open(with sealer: EnvelopeSealer) throws -> [Event] {
        guard ids.count == types.count else {
            throw EventsError(.malformedEventBody, "The batch names \(ids.count) ids but \(types.count) types.")
        }
        let plaintext = try sealer.open(envelope, context: Self.context(priority: priority, ids: ids, types: types))
        guard plaintext.first == Self.version else {
            throw EventsError(.malformedEventBody, "The event batch has an unknown format version.")
        }
        var events: [Event] = []
        events.reserveCapacity(ids.count)
        var offset = 1
        for index in ids.indices {
            guard plaintext.count - offset >= 4 else {
                throw EventsError(.malformedEventBody, "The event batch ends too early.")
            }
            let length = Int(plaintext[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            offset += 4
            guard plaintext.count - offset >= length else {
                throw EventsError(.malformedEventBody, "The event batch ends too early.")
            }
            events.append(
                try EventBodyCodec.decode(
                    plaintext, in: offset..<offset + length, id: ids[index], type: types[index], priority: priority,
                    trustingPayload: sealer.opensOnlyItsOwnEnvelopes))
            offset += length
        }
        guard offset == plaintext.count else {
            throw EventsError(.malformedEventBody, "The event batch has bytes after its last event.")
        }
        return events
    }
}
