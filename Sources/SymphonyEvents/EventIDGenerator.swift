import SymphonyCrypto
import Synchronization

/// Makes unique event ids cheaply: a random per-process prefix and a counter (`3f9c1a2b7d4e-1a`).
public final class EventIDGenerator: Sendable {
    /// The process-wide generator.
    public static let shared = EventIDGenerator()

    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    /// A generator with a fresh random 48-bit prefix.
    public init() {
        let random = (try? SecureRandom.uint64()) ?? UInt64(truncatingIfNeeded: Timestamp.now().nanosecondsSinceEpoch)
        let digits = String(random & 0xFFFF_FFFF_FFFF, radix: 16)
        prefix = String(repeating: "0", count: 12 - digits.count) + digits + "-"
    }

    /// The next id.
    public func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        return prefix + String(value, radix: 16)
    }
}
