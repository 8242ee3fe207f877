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

    @Test("a refused draw leaves no nonce written")
    func refusedDraw() {
        struct Refused: Error {}
        var sequence = NonceSequence()
        var buffer: [UInt8] = []
        #expect(throws: Refused.self) { try sequence.next(into: &buffer) { throw Refused() } }
        #expect(buffer.isEmpty)
    }
}
