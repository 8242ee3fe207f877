/// What `RunPipeline.submit(_:principal:)` did with one submission (an HTTP request's lines).
public struct SubmitResult: Sendable, Equatable {
    /// One line that was not taken, and why (never quoting its content).
    public struct Problem: Sendable, Equatable {
        /// The 1-based line (or item) number.
        public let line: Int
        /// Why the line was not taken.
        public let reason: String
        /// True when access control refused it (the rest were not valid events).
        public let denied: Bool

        /// A problem with `line`.
        public init(line: Int, reason: String, denied: Bool = false) {
            self.line = line
            self.reason = reason
            self.denied = denied
        }
    }

    /// Events published into the queue (and, with a history, durably recorded unless `historyFailure` says otherwise).
    public var accepted = 0
    /// Lines that were not valid events.
    public var rejected = 0
    /// Events the policy did not let the principal publish.
    public var denied = 0
    /// Events the queue did not take because the run is stopping.
    public var dropped = 0
    /// The lines not taken, in order.
    public var problems: [Problem] = []
    /// Set when the history could not make the accepted events durable.
    public var historyFailure: String?
    /// True when nothing was taken because the run is stopping (or its history failed).
    public var refused = false

    /// An empty result.
    public init() {}
}
