import Foundation
import SymphonyConcurrency
import Testing

@testable import SymphonyCrypto

@Suite struct NonceSequenceTests {
    @Test("a prefix is drawn — and counted — on the first nonce, not before; later nonces count up under it")
    func prefixOnFirstUse() throws {
        var sequence = NonceSequence()
        var draws = 0
        var first: [UInt8] = []
        try sequence.next(into: &first) { draws += 1 }
        #expect(draws == 1)
        #expect(first.count == 12)
        #expect(Array(first[8...]) == [0, 0, 0, 0])
        var second: [UInt8] = []
        try sequence.next(into: &second) { draws += 1 }
        #expect(draws == 1)
        #expect(Array(second[..<8]) == Array(first[..<8]))
        #expect(Array(second[8...]) == [0, 0, 0, 1])
    }

    @Test("at the counter's end a fresh prefix is drawn and counting restarts at 0; 0xFFFFFFFF is never used")
    func counterWrap() throws {
        var sequence = NonceSequence(prefix: 0x0102_0304_0506_0708, counter: UInt32.max - 1)
        var draws = 0
        var last: [UInt8] = []
        try sequence.next(into: &last) { draws += 1 }
        #expect(draws == 0)
        #expect(last == [1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xFF, 0xFF, 0xFE])
        var wrapped: [UInt8] = []
        try sequence.next(into: &wrapped) { draws += 1 }
        #expect(draws == 1)
        #expect(Array(wrapped[8...]) == [0, 0, 0, 0])
        #expect(Array(wrapped[..<8]) != [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test("a refused draw leaves no nonce written")
    func refusedDraw() {
        struct Refused: Error {}
        var sequence = NonceSequence()
        var buffer: [UInt8] = []
        #expect(throws: Refused.self) { try sequence.next(into: &buffer) { throw Refused() } }
        #expect(buffer.isEmpty)
    }
}

/// The sealer's cap on nonce prefixes, reached with a small cap instead of 2¹⁶ slots or 2⁴⁸ seals.
@Suite struct NoncePrefixCapTests {
    let context = EnvelopeContext(domain: "symphony.test.v1", fields: ["1"])

    @Test("past the cap a sealer refuses to seal, naming the key and asking for a rotation")
    func refusesPastTheCap() throws {
        let key = try fixedKey(9)
        let sealer = EnvelopeSealer(keyRing: KeyRing(active: key), prefixLimit: 0)
        let error = #expect(throws: CryptoError.self) { try sealer.seal([1, 2, 3], context: context) }
        #expect(error?.code == .nonceSpaceExhausted)
        #expect(error?.message == "Key \(key.idString) has sealed the most messages this process allows; rotate to a new key.")
    }

    @Test("40 threads sealing at once draw at most one prefix per stripe of slots, and no nonce repeats")
    func manyThreadsFewPrefixes() throws {
        let sealer = EnvelopeSealer(keyRing: KeyRing(active: try fixedKey(10)), prefixLimit: CipherPool.stripeCount)
        let nonces = Locked<[[UInt8]]>([])
        let failures = Locked(0)
        let done = DispatchGroup()
        for _ in 0..<40 {
            done.enter()
            Thread {
                var local: [[UInt8]] = []
                for index in 0..<300 {
                    do {
                        let envelope = try sealer.seal([UInt8(truncatingIfNeeded: index)], context: context)
                        guard try sealer.open(envelope, context: context) == [UInt8(truncatingIfNeeded: index)] else { throw CryptoError(.malformedEnvelope, "") }
                        local.append(Array(envelope[EnvelopeFormat.nonceRange]))
                    } catch {
                        failures.withLock { $0 += 1 }
                    }
                }
                nonces.withLock { $0 += local }
                done.leave()
            }.start()
        }
        done.wait()
        #expect(failures.withLock { $0 } == 0)
        let all = nonces.withLock { $0 }
        #expect(all.count == 12_000)
        #expect(Set(all).count == 12_000)
        #expect(Set(all.map { $0.prefix(8) }).count <= CipherPool.stripeCount)
    }

    @Test("only seals draw prefixes: opening draws none, and one slot's seals share its prefix")
    func onlySealsCount() throws {
        let key = try fixedKey(9)
        let envelopes = try (0..<5).map { try EnvelopeSealer(key: key).seal([UInt8($0)], context: context) }
        let sealer = EnvelopeSealer(keyRing: KeyRing(active: key), prefixLimit: 1)
        for (index, envelope) in envelopes.enumerated() { #expect(try sealer.open(envelope, context: context) == [UInt8(index)]) }
        let sealed = try (0..<100).map { try sealer.seal([UInt8($0)], context: context) }
        #expect(Set(sealed.map { Array($0[EnvelopeFormat.nonceRange].prefix(8)) }).count == 1)
    }
}
