/// A rule's `throttle:` gate: the rule fires at most once per key per `per`, on event time.
///
/// Matching events inside the quiet period are suppressed: their actions do not run, and they
/// are counted (`{{ throttle.suppressed }}` on the next firing for the key, and the run summary).
public struct Throttle: Sendable, Hashable {
    /// The key firings are limited per (a template, e.g. `{{ payload.service }}`).
    public let key: Template
    /// The quiet period after a firing.
    public let per: Duration
    /// The most keys the rule remembers; past it the least recently seen are evicted.
    public let maxKeys: Int

    /// A throttle gate.
    public init(key: Template, per: Duration, maxKeys: Int = CountWindow.defaultMaxKeys) {
        self.key = key
        self.per = per
        self.maxKeys = maxKeys
    }
}
