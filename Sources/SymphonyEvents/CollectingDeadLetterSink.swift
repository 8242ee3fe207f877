import Logging
import Synchronization
import SymphonyConcurrency

/// A dead-letter sink that keeps every letter in memory and logs a one-line summary of each.
public final class CollectingDeadLetterSink: DeadLetterSink {
    private let letters = Locked<[DeadLetter]>([])
    private let logger: Logger?

    /// A sink that logs each letter's summary (never its payload) to `logger` when one is given.
    public init(logger: Logger? = nil) {
        self.logger = logger
    }

    public func receive(_ letter: DeadLetter) {
        logger?.error("dead letter: \(letter.summary)")
        letters.withLock { $0.append(letter) }
    }

    /// Every letter received so far, in arrival order.
    public var all: [DeadLetter] { letters.withLock { $0 } }

    /// How many letters arrived.
    public var count: Int { letters.withLock { $0.count } }
}
