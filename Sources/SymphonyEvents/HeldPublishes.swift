import Glibc

/// The events handlers published on one worker thread while it handles a take from the queue,
/// held to be queued together when the take is done (`EventDispatcher.publish(_:fromHandler:)`).
///
/// Each worker thread owns one and reaches it through a thread-specific pointer, so a handler's
/// publish takes no lock; a publish from any other thread finds none (or another dispatcher's)
/// and queues its event at once.
final class HeldPublishes {
    /// The dispatcher whose worker owns this.
    unowned let dispatcher: EventDispatcher
    /// What the handlers published, in order.
    // Unchecked exclusivity: only the owning worker thread reaches these (the runtime's dynamic
    // check cost a begin and an end call per publish).
    @exclusivity(unchecked) var events: [Event] = []
    /// The one-shot scheduled entries some of `events` were fired by, by position in `events`
    /// (a delay already due that a handler made, `Scheduler` firing it at once).
    @exclusivity(unchecked) var firedEntries: [Int: FiredEntry] = [:]

    init(dispatcher: EventDispatcher) {
        self.dispatcher = dispatcher
        events.reserveCapacity(64)
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// The calling thread's, if it is a worker thread that made one current.
    static var current: HeldPublishes? {
        pthread_getspecific(key).map { Unmanaged<HeldPublishes>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Makes this the calling thread's; it must stay alive until `clearCurrent()`.
    func makeCurrent() {
        pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Forgets the calling thread's.
    static func clearCurrent() {
        pthread_setspecific(key, nil)
    }
}
