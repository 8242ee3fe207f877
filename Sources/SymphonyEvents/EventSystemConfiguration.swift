import Logging
import SymphonyCrypto

/// How an `EventSystem` is built: workers, queue bound, encryption, clock, stores and logging.
public struct EventSystemConfiguration: Sendable {
    /// How events are protected while queued.
    public enum Encryption: Sendable {
        /// Seal queued events under a fresh random key that lives only in this process (the default).
        case ephemeralKey
        /// Seal queued events under the ring's active key.
        case keyRing(KeyRing)
        /// Queue plaintext events — for debugging only; the system logs a loud warning.
        case disabled
    }

    /// Worker threads that run handlers; defaults to the number of cores.
    public var workerCount = EventDispatcher.defaultWorkerCount
    /// The most queued events before back-pressure.
    public var queueCapacity = 65_536
    /// What `publish` does when the queue is full: wait for room (default) or throw `full`.
    public var whenFull: EventQueue<QueuedEvent>.WhenFull = .wait
    /// How queued events are protected.
    public var encryption: Encryption = .ephemeralKey
    /// Where the scheduler reads the time.
    public var clock: any SchedulerClock = SystemClock()
    /// Where pending scheduled entries are kept.
    public var scheduleStore: any ScheduledEntryStore = InMemoryScheduledEntryStore()
    /// Where events that could not be handled go; by default they are kept in memory and logged.
    public var deadLetters: (any DeadLetterSink)?
    /// The logger for warnings and errors.
    public var logger = Logger(label: "symphony")

    /// The defaults: one worker per core, a 65,536-event queue that waits when full, encryption on.
    public init() {}
}
