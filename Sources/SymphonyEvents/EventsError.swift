/// An error from the event runtime: queue, dispatcher, scheduler and event system.
public struct EventsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case closed, full, invalidPriority, invalidType, invalidID, invalidSource, invalidPattern, malformedEventBody
            case invalidSchedule, alreadyStarted, wrongStart
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The queue or system is closed or stopping; nothing more is accepted.
        public static let closed = Code(.closed)
        /// The queue is at capacity and was told to fail instead of waiting.
        public static let full = Code(.full)
        /// A priority outside 0…9.
        public static let invalidPriority = Code(.invalidPriority)
        /// An event type that is not a dotted name.
        public static let invalidType = Code(.invalidType)
        /// An event id holding a control character (U+0000–U+001F or U+007F).
        public static let invalidID = Code(.invalidID)
        /// An event source holding a control character (U+0000–U+001F or U+007F).
        public static let invalidSource = Code(.invalidSource)
        /// A type pattern that is not valid.
        public static let invalidPattern = Code(.invalidPattern)
        /// Encoded event bytes that cannot be decoded.
        public static let malformedEventBody = Code(.malformedEventBody)
        /// A schedule that cannot be honoured (for example a zero period).
        public static let invalidSchedule = Code(.invalidSchedule)
        /// The component was already started once.
        public static let alreadyStarted = Code(.alreadyStarted)
        /// A scheduler was started the way that does not fit how it was made (see `Scheduler.start()`).
        public static let wrongStart = Code(.wrongStart)

        public var description: String { "\(value)" }
    }

    /// What kind of failure this is.
    public let code: Code
    /// One sentence saying what went wrong; it never contains payload data.
    public let message: String

    /// Makes an error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
