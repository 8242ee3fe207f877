import Testing

@testable import SymphonyEvents

@Suite struct EventIDGeneratorTests {
    /// `value` in base 32 with the generator's digits (0-9, then a-z without i, l, o and u).
    static func base32(_ value: UInt64, width: Int = 0) -> String {
        let digits = Array("0123456789abcdefghjkmnpqrstvwxyz")
        var text = ""
        var rest = value
        repeat {
            text.insert(digits[Int(rest % 32)], at: text.startIndex)
            rest /= 32
        } while rest != 0
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    @Test("ids are the 9-digit base-32 prefix, a dash and the counter in base 32, up to the counter's largest value")
    func counter() {
        let generator = EventIDGenerator(random: 0xAB_CDEF_0123, after: 0)
        let prefix = Self.base32(0xAB_CDEF_0123 & (1 << 45 - 1), width: 9) + "-"
        for count in 1...1_100 as ClosedRange<UInt64> {
            let id = generator.next()
            #expect(id == prefix + Self.base32(count))
            #expect(generator.made(id))
        }
        #expect(!generator.made(prefix))
        #expect(!generator.made(prefix + "u"))  // not a digit of the alphabet
        #expect(!generator.made("zzzzzzzzz-1"))
        for start in [0x1F, 0x3FF, 0xFFFF_FFFF, UInt64.max - 1] as [UInt64] {
            let jumped = EventIDGenerator(random: 0xFFFF_FFFF_FFFF_FFFF, after: start)
            #expect(jumped.next() == "zzzzzzzzz-" + Self.base32(start + 1))
        }
    }

    @Test("the ids of a process's first 33,554,431 events are at most 15 bytes, so they are stored inline")
    func short() {
        let generator = EventIDGenerator(random: 0x1234_5678_9ABC, after: 1 << 25 - 2)
        #expect(generator.next().utf8.count == 15)
        #expect(generator.next().utf8.count == 16)
    }

    @Test("a repeatable generator makes the prefix and a decimal counter from 1")
    func repeatable() {
        let generator = EventIDGenerator(prefix: "d")
        #expect((1...12).map { _ in generator.next() } == (1...12).map { "d\($0)" })
        #expect(generator.made("d12") && !generator.made("d1a") && !generator.made("d"))
    }
}
