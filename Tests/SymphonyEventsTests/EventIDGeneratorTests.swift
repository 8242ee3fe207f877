import Testing

@testable import SymphonyEvents

@Suite struct EventIDGeneratorTests {
    @Test("ids are the 12-digit hex prefix, a dash and the counter in lowercase hex, up to the counter's largest value")
    func hexCounter() {
        let generator = EventIDGenerator(random: 0xAB_CDEF_0123, after: 0)
        for count in 1...300 as ClosedRange<UInt64> {
            let id = generator.next()
            #expect(id == "00abcdef0123-" + String(count, radix: 16))
            #expect(generator.made(id))
        }
        for start in [0xF, 0xFF, 0xFFFF_FFFF, UInt64.max - 1] as [UInt64] {
            let jumped = EventIDGenerator(random: 0xFFFF_FFFF_FFFF_FFFF, after: start)
            #expect(jumped.next() == "ffffffffffff-" + String(start + 1, radix: 16))
        }
    }
}
