/// A rule's `count:` gate: the rule fires when at least `atLeast` matching events with the same
/// key fall within `within` of each other, measured on event time (fail2ban's maxretry/findtime,
/// SEC's SingleWithThreshold).
///
/// When it fires, that key's window is emptied: counting for the key starts again from zero.
public struct CountWindow: Sendable, Hashable {
    /// The key each matching event is counted under (a template, e.g. `{{ captures.ip }}`).
    public let key: Template
    /// How many events within the window make the rule fire (at least 1).
    public let atLeast: Int
    /// The window's length: the first and the last counted event are at most this far apart.
    public let within: Duration
    /// Whether `{{ window.ids }}` lists the ids of the events in the window.
    public let keepIDs: Bool
    /// The most keys the rule keeps a window for; past it the least recently seen are evicted.
    public let maxKeys: Int

    /// The default `max_keys`.
    public static let defaultMaxKeys = 100_000

    /// A count gate.
    public init(key: Template, atLeast: Int, within: Duration, keepIDs: Bool = false, maxKeys: Int = CountWindow.defaultMaxKeys) {
        self.key = key
        self.atLeast = atLeast
        self.within = within
        self.keepIDs = keepIDs
        self.maxKeys = maxKeys
    }
}
