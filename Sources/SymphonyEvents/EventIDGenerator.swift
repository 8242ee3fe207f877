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
    public init() {
        let random = (try? SecureRandom.uint64()) ?? UInt64(truncatingIfNeeded: Timestamp.now().nanosecondsSinceEpoch)
        let digits = String(random & 0xFFFF_FFFF_FFFF, radix: 16)
        prefix = String(repeating: "0", count: 12 - digits.count) + digits + "-"
        radix = 16
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
        return prefix + String(value, radix: radix)
    }
}
