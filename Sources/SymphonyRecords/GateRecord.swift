/// What one gate holds for one key, as a store keeps it between batches (times are event times
/// in nanoseconds since the epoch).
public enum GateRecord: Sendable, Hashable {
    /// A `count:` window: the times of the events in it, oldest first, and their ids when the
    /// rule keeps them (else empty).
    case window(times: [Int64], ids: [String])
    /// A `throttle:`: when the rule last fired for the key, and how many events it held back since.
    case throttle(lastFired: Int64, suppressed: Int)
    /// An `after:` gate: the earlier events waiting for a pair, oldest first.
    case waiting(times: [Int64], ids: [String])

    /// The latest event time the record holds: once it is further back than the gate's window
    /// or period from the newest event, the record can no longer change what the gate decides.
    public var newest: Int64 {
        switch self {
        case .window(let times, _), .waiting(let times, _): times.last ?? .min
        case .throttle(let lastFired, _): lastFired
        }
    }
}
