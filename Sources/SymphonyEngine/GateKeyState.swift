import SymphonyEvents

/// What one gate of a rule holds for one key (`symphony history --state RULE`).
public struct GateKeyState: Sendable, Hashable {
    /// `count`, `throttle` or `after`.
    public let gate: String
    /// The key.
    public let key: String
    /// Events in the window (`count`), suppressed since the last firing (`throttle`), or waiting to pair (`after`).
    public let events: Int
    /// The earliest event in the window or waiting (`count`, `after`), or the last firing (`throttle`).
    public let first: Timestamp?
    /// The latest event in the window or waiting (`count`, `after`).
    public let last: Timestamp?
    /// One sentence for people: "2 of 5 within 10m; needs 3 more".
    public let detail: String

    /// A key's state.
    public init(gate: String, key: String, events: Int, first: Timestamp?, last: Timestamp?, detail: String) {
        self.gate = gate
        self.key = key
        self.events = events
        self.first = first
        self.last = last
        self.detail = detail
    }
}
