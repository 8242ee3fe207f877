import SymphonyCrypto
import Synchronization

/// Makes unique event ids cheaply: a random per-process prefix and a counter, both in base 32
/// (`k3j9x2m4q-1a`: digits and lowercase letters without `i`, `l`, `o` and `u`).
///
/// The prefix is 45 random bits in 9 digits, so that with the dash the ids of a process's first
/// 33,554,431 events fit in 15 bytes: a string that short is stored inline, so making, copying and
/// dropping an id allocates nothing and counts no references.
public final class EventIDGenerator: Sendable {
    /// The process-wide generator.
    public static let shared = EventIDGenerator()

    /// The digits of generated ids (prefix and counter), lowest value first.
    public static let digits = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    private let prefix: String
    private let radix: Int
    private let counter = Atomic<UInt64>(0)

    /// A generator with a fresh random 45-bit prefix.
    public convenience init() {
        self.init(random: (try? SecureRandom.uint64()) ?? UInt64(truncatingIfNeeded: Timestamp.now().nanosecondsSinceEpoch), after: 0)
    }

    /// A generator whose prefix is made of `random`'s low 45 bits and whose first id counts `after + 1` (tests).
    init(random: UInt64, after count: UInt64) {
        prefix = String(decoding: (0..<9).reversed().map { Self.digits[Int(random >> (5 * UInt64($0)) & 31)] }, as: UTF8.self) + "-"
        radix = 32
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
        guard id.hasPrefix(prefix), id.utf8.count > prefix.utf8.count else { return false }
        let counter = id.utf8.dropFirst(prefix.utf8.count)
        return radix == 32 ? counter.allSatisfy(Self.digits.contains) : counter.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// The next id.
    public func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        guard radix == 32 else { return prefix + String(value, radix: radix) }
        // Digits written into one buffer with the prefix: one string made, no generic formatting.
        var prefix = prefix
        return prefix.withUTF8 { prefixBytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefixBytes.count + 13) { buffer in
                _ = buffer.initialize(fromContentsOf: prefixBytes)
                var count = 0
                var rest = value
                repeat {
                    count += 1
                    rest >>= 5
                } while rest != 0
                var shift = UInt64(5 * (count - 1))
                for position in prefixBytes.count..<prefixBytes.count + count {
                    buffer[position] = Self.digits[Int(truncatingIfNeeded: value >> shift & 31)]
                    shift &-= 5
                }
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<(prefixBytes.count + count)]), as: UTF8.self)
            }
        }
    }
}
