import SymphonyCrypto
import Synchronization

/// Makes unique event ids cheaply: a random per-process prefix and a counter (`3f9c1a2b7d4e-1a`).
public final class EventIDGenerator: Sendable {
    /// The process-wide generator.
    public static let shared = EventIDGenerator()

    private let prefix: String
    private let radix: Int
    private let counter = Atomic<UInt64>(0)

    /// A generator with a fresh random 48-bit prefix.
    public convenience init() {
        self.init(random: (try? SecureRandom.uint64()) ?? UInt64(truncatingIfNeeded: Timestamp.now().nanosecondsSinceEpoch), after: 0)
    }

    /// A generator whose prefix is made of `random`'s low 48 bits and whose first id counts `after + 1` (tests).
    init(random: UInt64, after count: UInt64) {
        let digits = String(random & 0xFFFF_FFFF_FFFF, radix: 16)
        prefix = String(repeating: "0", count: 12 - digits.count) + digits + "-"
        radix = 16
        counter.store(count, ordering: .relaxed)
    }

    /// A generator of repeatable ids: `prefix` and a decimal counter from 1 (`d1`, `d2`, …), for
    /// outputs that must compare equal from one run to the next (rule tests).
    public init(prefix: String) {
        self.prefix = prefix
        radix = 10
    }

    /// True when this generator made `id` (its prefix, then its counter's digits).
    public func made(_ id: String) -> Bool {
        id.hasPrefix(prefix) && id.count > prefix.count && id.dropFirst(prefix.count).allSatisfy(\.isHexDigit)
    }

    /// The next id.
    public func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        guard radix == 16 else { return prefix + String(value, radix: radix) }
        // Hex digits written into one buffer with the prefix: one string made, no generic formatting.
        var prefix = prefix
        return prefix.withUTF8 { prefixBytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefixBytes.count + 16) { buffer in
                _ = buffer.initialize(fromContentsOf: prefixBytes)
                var digits = 0
                var rest = value
                repeat {
                    digits += 1
                    rest >>= 4
                } while rest != 0
                var shift = UInt64(4 * (digits - 1))
                for position in prefixBytes.count..<prefixBytes.count + digits {
                    let digit = UInt8(truncatingIfNeeded: value >> shift) & 0xF
                    buffer[position] = digit < 10 ? 0x30 + digit : 0x57 + digit  // 0-9, a-f
                    shift &-= 4
                }
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<(prefixBytes.count + digits)]), as: UTF8.self)
            }
        }
    }
}
