import Foundation
import SymphonyCrypto
import Synchronization
import Testing
import SymphonyConcurrency

@Suite struct EnvelopeSealerTests {
    let context = EnvelopeContext(domain: "symphony.event.v1", fields: ["e-1", "ticket.created", "3"])
    let secret = Array("refund order 1234 for Ada".utf8)

    @Test("an envelope has the documented layout and opens with the same context")
    func roundTripAndLayout() throws {
        let key = try fixedKey(7)
        let sealer = EnvelopeSealer(key: key)
        let envelope = try sealer.seal(secret, context: context)
        #expect(envelope.count == secret.count + EnvelopeFormat.overhead)
        #expect(envelope[0] == 1)
        #expect(EnvelopeFormat.keyID(of: envelope) == key.id)
        #expect(try sealer.open(envelope, context: context) == secret)
        #expect(!String(decoding: envelope, as: UTF8.self).contains("refund"))
    }

    @Test("the associated data is the header followed by the length-prefixed context", .tags(.interop))
    func associatedDataIsDocumented() throws {
        let key = try fixedKey(7)
        let envelope = try EnvelopeSealer(key: key).seal(secret, context: context)
        let header = Array(envelope[0..<17])
        let body = Array(envelope[17..<(envelope.count - 16)])
        let tag = Array(envelope[(envelope.count - 16)...])
        var aad = header
        aad += [0, 0, 0, 17] + Array("symphony.event.v1".utf8)
        aad += [0, 0, 0, 3] + Array("e-1".utf8)
        aad += [0, 0, 0, 14] + Array("ticket.created".utf8)
        aad += [0, 0, 0, 1] + Array("3".utf8)
        #expect(context.encoded == Array(aad[17...]))
        let plaintext = try AESGCM.open(body, using: key, nonce: Array(envelope[5..<17]), tag: tag, authenticating: aad)
        #expect(plaintext == secret)
    }

    @Test("a context is written after what the buffer holds: each field's byte count, big-endian, then its UTF-8 bytes")
    func contextEncoding() {
        let fields = ["", "é", String(repeating: "x", count: 300), "日本", "e-1"]
        var buffer: [UInt8] = [9, 9]
        EnvelopeContext(domain: "d", fields: fields).encode(into: &buffer)
        var expected: [UInt8] = [9, 9, 0, 0, 0, 1] + Array("d".utf8)
        for field in fields {
            let count = field.utf8.count
            expected += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + Array(field.utf8)
        }
        #expect(buffer == expected)
        #expect(EnvelopeContext(domain: "", fields: []).encoded == [0, 0, 0, 0])
    }

    @Test("the key id is the first four bytes of SHA-256 over the label and the key")
    func keyIDDerivation() throws {
        let key = try fixedKey(7)
        let digest = SHA256.hash(Array("symphony-key-id-v1".utf8) + [UInt8](repeating: 7, count: 32))
        #expect(key.id == digest[0..<4].reduce(0) { ($0 << 8) | UInt32($1) })
        #expect(key.description == "EncryptionKey(id: \(key.idString))")
        #expect(!key.description.contains("0707"))
    }

    enum Part: String, CaseIterable, Sendable {
        case version, keyID, nonce, ciphertext, tag
    }

    @Test("flipping any part of the envelope makes it fail to open", arguments: Part.allCases)
    func tamperedPartsFail(_ part: Part) throws {
        let sealer = EnvelopeSealer(key: try fixedKey(7))
        var envelope = try sealer.seal(secret, context: context)
        let index: Int
        let expected: CryptoError.Code
        switch part {
        case .version: (index, expected) = (0, .unsupportedVersion)
        case .keyID: (index, expected) = (2, .unknownKey)
        case .nonce: (index, expected) = (9, .authenticationFailed)
        case .ciphertext: (index, expected) = (20, .authenticationFailed)
        case .tag: (index, expected) = (envelope.count - 1, .authenticationFailed)
        }
        envelope[index] ^= 0x01
        let error = #expect(throws: CryptoError.self) { try sealer.open(envelope, context: context) }
        #expect(error?.code == expected)
    }

    @Test("an envelope moved to another context fails to open", arguments: [
        EnvelopeContext(domain: "symphony.event.v1", fields: ["e-2", "ticket.created", "3"]),
        EnvelopeContext(domain: "symphony.event.v1", fields: ["e-1", "ticket.deleted", "3"]),
        EnvelopeContext(domain: "symphony.event.v1", fields: ["e-1", "ticket.created", "0"]),
        EnvelopeContext(domain: "symphony.history.v1", fields: ["e-1", "ticket.created", "3"]),
    ])
    func movedEnvelopeFails(_ other: EnvelopeContext) throws {
        let sealer = EnvelopeSealer(key: try fixedKey(7))
        let envelope = try sealer.seal(secret, context: context)
        let error = #expect(throws: CryptoError.self) { try sealer.open(envelope, context: other) }
        #expect(error?.code == .authenticationFailed)
    }

    @Test("a key with the same id but other bytes cannot open, and a foreign key is unknown")
    func wrongKeyFails() throws {
        let envelope = try EnvelopeSealer(key: try fixedKey(7)).seal(secret, context: context)
        let error = #expect(throws: CryptoError.self) { try EnvelopeSealer(key: try fixedKey(8)).open(envelope, context: context) }
        #expect(error?.code == .unknownKey)
        #expect(error?.message == "The envelope was sealed with a key that is not in the key ring.")

        // Forge the header so it names key 8's id: the tag still fails under key 8.
        let other = try fixedKey(8)
        var forged = envelope
        for (offset, shift) in zip(1..<5, [24, 16, 8, 0]) { forged[offset] = UInt8(truncatingIfNeeded: other.id >> UInt32(shift)) }
        let forgedError = #expect(throws: CryptoError.self) { try EnvelopeSealer(key: other).open(forged, context: context) }
        #expect(forgedError?.code == .authenticationFailed)
    }

    @Test("truncated bytes are reported as malformed")
    func truncatedEnvelope() throws {
        let sealer = EnvelopeSealer(key: try fixedKey(7))
        let error = #expect(throws: CryptoError.self) { try sealer.open(Array(repeating: 1, count: 20), context: context) }
        #expect(error?.code == .malformedEnvelope)
        #expect(error?.message == "An envelope is at least 33 bytes; this one has 20.")
    }

    @Test("after rotation new data uses the new key while old envelopes still open")
    func keyRotation() throws {
        let old = try fixedKey(1)
        let new = try fixedKey(2)
        let oldEnvelope = try EnvelopeSealer(key: old).seal(secret, context: context)
        let rotated = EnvelopeSealer(keyRing: KeyRing(active: new, retired: [old]))
        #expect(try rotated.open(oldEnvelope, context: context) == secret)
        let newEnvelope = try rotated.seal(secret, context: context)
        #expect(EnvelopeFormat.keyID(of: newEnvelope) == new.id)
        #expect(throws: CryptoError.self) { try EnvelopeSealer(key: old).open(newEnvelope, context: context) }
    }

    @Test("nonces never repeat, across many messages and threads")
    func noncesAreUnique() throws {
        let sealer = EnvelopeSealer(key: try fixedKey(3))
        let seen = Locked<Set<[UInt8]>>([])
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            var local: [[UInt8]] = []
            for _ in 0..<2_000 {
                guard let envelope = try? sealer.seal([1, 2, 3], context: context) else {
                    failures.add(1, ordering: .relaxed)
                    continue
                }
                local.append(Array(envelope[EnvelopeFormat.nonceRange]))
            }
            seen.withLock { $0.formUnion(local) }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(seen.withLock { $0.count } == 16_000)
    }

    @Test("many threads sealing and opening at once all round-trip")
    func concurrentSealAndOpen() throws {
        let sealer = EnvelopeSealer(key: try fixedKey(4))
        let mismatches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for index in 0..<1_000 {
                let message = Array("thread \(thread) message \(index)".utf8)
                let opened = try? sealer.open(try sealer.seal(message, context: context), context: context)
                if opened != message { mismatches.add(1, ordering: .relaxed) }
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }
}

extension Tag {
    @Tag static var interop: Self
}
