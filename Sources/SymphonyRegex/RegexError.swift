/// An error from compiling or matching a regular expression.
public struct RegexError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case compileFailed, matchLimitExceeded, depthLimitExceeded, jitStackExhausted, matchFailed
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The pattern does not compile; `offset` says where.
        public static let compileFailed = Code(.compileFailed)
        /// Matching gave up after the match limit: the pattern backtracks catastrophically on this text.
        public static let matchLimitExceeded = Code(.matchLimitExceeded)
        /// Matching gave up at the depth (heap) limit.
        public static let depthLimitExceeded = Code(.depthLimitExceeded)
        /// The JIT stack was too small for this match.
        public static let jitStackExhausted = Code(.jitStackExhausted)
        /// Any other matching failure PCRE2 reports.
        public static let matchFailed = Code(.matchFailed)

        public var description: String { "\(value)" }
    }

    /// What kind of failure this is.
    public let code: Code
    /// PCRE2's message, as a sentence.
    public let message: String
    /// For compile errors: the offset in the pattern, in characters, where PCRE2 stopped.
    public let offset: Int?

    /// An error.
    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    /// True for the outcomes that mean "this pattern is too expensive on this text" rather than "no match".
    public var isResourceLimit: Bool {
        code == .matchLimitExceeded || code == .depthLimitExceeded || code == .jitStackExhausted
    }

    public var description: String {
        if let offset { return "\(message) (at offset \(offset) in the pattern)" }
        return message
    }
}
