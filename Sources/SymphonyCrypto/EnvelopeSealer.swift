import Glibc
import Synchronization
import SymphonyConcurrency

/// Seals and opens version-1 AES-256-GCM envelopes under a key ring; safe to use from many threads.
///
/// Each thread that seals or opens at the same moment borrows its own cipher (OpenSSL contexts
/// with the key schedule already computed, a nonce sequence and an associated-data buffer) from
/// a small pool, so no call allocates a context and no two threads share one.
public final class EnvelopeSealer: Sendable {
    /// The most nonce prefixes one sealer draws under its active key (see `NonceSequence`).
    public static let maximumNoncePrefixes = 1 << 16

    /// The keys this sealer seals and opens with.
    public let keyRing: KeyRing
    private let pools: [UInt32: CipherPool]
    private let prefixesDrawn = Atomic<Int>(0)
    /// `maximumNoncePrefixes`, or a smaller cap a test sets to reach it.
    private let prefixLimit: Int
    /// True for a sealer made by `withFreshKey()`: its key exists nowhere else, so every envelope
    /// it opens is one it sealed itself. (Package only: a caller holding the sealer could seal any
    /// bytes with it; the event system keeps its own private.)
    package let opensOnlyItsOwnEnvelopes: Bool

    /// A sealer over `keyRing`; it seals with the ring's active key.
    public convenience init(keyRing: KeyRing) {
        self.init(keyRing: keyRing, prefixLimit: Self.maximumNoncePrefixes)
    }

    /// A sealer over a new random key that is never stored or handed out: an in-process queue's.
    package static func withFreshKey() throws -> EnvelopeSealer {
        EnvelopeSealer(keyRing: KeyRing(active: try EncryptionKey.generate()), prefixLimit: maximumNoncePrefixes, ownKey: true)
    }

    /// A sealer that refuses to seal once it has drawn `prefixLimit` nonce prefixes (tests).
    init(keyRing: KeyRing, prefixLimit: Int, ownKey: Bool = false) {
        self.keyRing = keyRing
        self.prefixLimit = prefixLimit
        opensOnlyItsOwnEnvelopes = ownKey
        var pools: [UInt32: CipherPool] = [:]
        for id in keyRing.keyIDs {
            pools[id] = CipherPool(key: keyRing.key(withID: id)!)
        }
        self.pools = pools
    }

    /// A sealer with a single key.
    public convenience init(key: EncryptionKey) {
        self.init(keyRing: KeyRing(active: key))
    }

    /// Zeros the length of a tag.
    private static let tagRoom = [UInt8](repeating: 0, count: EnvelopeFormat.tagByteCount)

    /// Encrypts `plaintext` into a new envelope bound to `context`.
    public func seal(_ plaintext: [UInt8], context: EnvelopeContext) throws -> [UInt8] {
        let key = keyRing.activeKey
        let pool = pools[key.id]!
        return try pool.withSlot { slot in
            var envelope = [UInt8]()
            envelope.reserveCapacity(EnvelopeFormat.overhead + plaintext.count)
            envelope.append(EnvelopeFormat.currentVersion)
            BigEndianBytes.append(key.id, to: &envelope)
            try slot.nonces.next(into: &envelope) { try countNoncePrefix(for: key) }
            slot.associatedData.removeAll(keepingCapacity: true)
            slot.associatedData.append(contentsOf: envelope)
            context.encode(into: &slot.associatedData)

            let ciphertextStart = envelope.count
            // Room for the ciphertext and tag, by copying arrays (a memcpy): the cipher overwrites it all.
            // (Not `repeatElement`: under ThreadSanitizer, threads meeting Swift's generic `Repeated`
            // for the first time at once have stalled the Swift 6.3 runtime in `once_slow` for minutes.)
            envelope.append(contentsOf: plaintext)
            envelope.append(contentsOf: Self.tagRoom)
            try plaintext.withUnsafeBytes { input in
                try slot.associatedData.withUnsafeBytes { aad in
                    try envelope.withUnsafeMutableBytes { output in
                        let nonce = UnsafeRawBufferPointer(rebasing: output[EnvelopeFormat.nonceRange])
                        let body = UnsafeMutableRawBufferPointer(rebasing: output[ciphertextStart..<ciphertextStart + plaintext.count])
                        let tag = UnsafeMutableRawBufferPointer(rebasing: output[(ciphertextStart + plaintext.count)...])
                        try slot.cipher.seal(input, nonce: nonce, authenticating: aad, into: body, tag: tag)
                    }
                }
            }
            return envelope
        }
    }

    /// Decrypts `envelope` if it was sealed by a key in the ring with exactly this `context`.
    ///
    /// Throws `malformedEnvelope`, `unsupportedVersion`, `unknownKey` or `authenticationFailed`;
    /// the error never says which byte was wrong.
    public func open(_ envelope: [UInt8], context: EnvelopeContext) throws -> [UInt8] {
        guard envelope.count >= EnvelopeFormat.overhead else {
            throw CryptoError(
                .malformedEnvelope,
                "An envelope is at least \(EnvelopeFormat.overhead) bytes; this one has \(envelope.count).")
        }
        guard envelope[0] == EnvelopeFormat.currentVersion else {
            throw CryptoError(.unsupportedVersion, "Envelope version \(envelope[0]) is not supported; this build reads version 1.")
        }
        let keyID = EnvelopeFormat.keyID(of: envelope)!
        guard let pool = pools[keyID] else {
            throw CryptoError(.unknownKey, "The envelope was sealed with a key that is not in the key ring.")
        }
        return try pool.withSlot { slot in
            slot.associatedData.removeAll(keepingCapacity: true)
            slot.associatedData.append(contentsOf: envelope[0..<EnvelopeFormat.headerByteCount])
            context.encode(into: &slot.associatedData)

            let bodyCount = envelope.count - EnvelopeFormat.overhead
            var plaintext = [UInt8](repeating: 0, count: bodyCount)
            let ok = envelope.withUnsafeBytes { input in
                slot.associatedData.withUnsafeBytes { aad in
                    plaintext.withUnsafeMutableBytes { output in
                        slot.cipher.open(
                            UnsafeRawBufferPointer(rebasing: input[EnvelopeFormat.headerByteCount..<EnvelopeFormat.headerByteCount + bodyCount]),
                            nonce: UnsafeRawBufferPointer(rebasing: input[EnvelopeFormat.nonceRange]),
                            authenticating: aad,
                            tag: UnsafeRawBufferPointer(rebasing: input[(EnvelopeFormat.headerByteCount + bodyCount)...]),
                            into: output)
                    }
                }
            }
            guard ok else {
                EncryptionKey.wipe(&plaintext)
                throw CryptoError(.authenticationFailed, "The envelope could not be authenticated: it was altered, moved to another context, or sealed with another key.")
            }
            return plaintext
        }
    }

    /// Counts one more nonce prefix drawn under the active key, refusing past the limit.
    private func countNoncePrefix(for key: EncryptionKey) throws {
        if prefixesDrawn.add(1, ordering: .relaxed).newValue > prefixLimit {
            throw CryptoError(
                .nonceSpaceExhausted, "Key \(key.idString) has sealed the most messages this process allows; rotate to a new key.")
        }
    }

}

/// A cipher borrowed by one thread at a time.
// @unchecked Sendable: a slot is reachable from exactly one thread at a time — only inside
// `CipherPool.withSlot`, while its stripe's lock is held.
final class CipherSlot: @unchecked Sendable {
    let cipher: AESGCMCipher
    // Unchecked exclusivity: a slot is used only while its stripe's lock is held (the runtime's
    // dynamic check cost a begin and an end call per envelope).
    @exclusivity(unchecked) var nonces: NonceSequence
    @exclusivity(unchecked) var associatedData: [UInt8] = []

    init(key: EncryptionKey) throws {
        cipher = try AESGCMCipher(key: key)
        nonces = NonceSequence()
        associatedData.reserveCapacity(256)
    }
}

/// Cipher slots for one key, in stripes: each stripe holds at most one slot behind its own lock.
///
/// A thread starts at the stripe its thread id hashes to and takes the first stripe it can lock
/// without waiting (waiting on its own only when all are busy), so threads sealing and opening at
/// once rarely touch the same lock, where one pool-wide lock was contended by every seal and open.
/// A slot draws its nonce prefix (counted) on its first seal, so a pool draws at most one prefix
/// per stripe for its whole life.
final class CipherPool: Sendable {
    static let stripeCount = 16
    private let key: EncryptionKey
    private let stripes: [Stripe]

    /// One slot and its lock.
    // @unchecked Sendable: `slot` is read and written only while `mutex` is held.
    final class Stripe: @unchecked Sendable {
        let mutex = PThreadMutex.make()
        var slot: CipherSlot?

        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }
    }


    init(key: EncryptionKey) {
        self.key = key
        stripes = (0..<Self.stripeCount).map { _ in Stripe() }
    }

    /// Runs `body` with a slot no other thread uses meanwhile (made on its stripe's first use).
    func withSlot<Result>(_ body: (CipherSlot) throws -> Result) throws -> Result {
        let first = ThreadStripe.current(of: stripes.count)
        var locked: Stripe?
        for offset in 0..<stripes.count where locked == nil {
            let stripe = stripes[(first + offset) % stripes.count]
            if pthread_mutex_trylock(stripe.mutex) == 0 { locked = stripe }
        }
        let stripe = locked ?? stripes[first]
        if locked == nil { pthread_mutex_lock(stripe.mutex) }
        defer { pthread_mutex_unlock(stripe.mutex) }
        if stripe.slot == nil { stripe.slot = try CipherSlot(key: key) }
        return try body(stripe.slot!)
    }
}
