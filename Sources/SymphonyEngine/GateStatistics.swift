/// What the gates of a run held back, and the keys they evicted.
public struct GateStatistics: Sendable, Hashable {
    /// Matching events counted into a window that did not reach `at_least`.
    public var counting = 0
    /// Matching events too old for their key's window.
    public var late = 0
    /// Matching events suppressed by a throttle.
    public var suppressed = 0
    /// Matching events with no earlier event to pair with (`after:`).
    public var unpaired = 0
    /// Keys evicted to stay within `max_keys`.
    public var evictedKeys = 0

    /// Statistics with the given counts (all zero by default).
    public init(counting: Int = 0, late: Int = 0, suppressed: Int = 0, unpaired: Int = 0, evictedKeys: Int = 0) {
        self.counting = counting
        self.late = late
        self.suppressed = suppressed
        self.unpaired = unpaired
        self.evictedKeys = evictedKeys
    }
}
