import Glibc

/// A pthread mutex (adaptive, from `PThreadMutex`) with condition variables on the monotonic
/// clock: the runtime's blocking primitive.
///
/// With `Locked.swift`, `PThreadMutex.swift` and `WorkerThread.swift`, this module's unsafe
/// pthread code (outside it, only SymphonyRegex's `MatchScratch` and the benchmarks' threads).
// @unchecked Sendable: the mutex and conditions live at fixed heap addresses for the lock's whole
// life and pthread guarantees their thread safety; the only other stored property, the number of
// conditions, never changes.
public final class ConditionLock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let conditionCount: Int

    /// A lock with `conditionCount` condition variables, addressed by index.
    package init(conditionCount: Int = 1) {
        self.conditionCount = conditionCount
        mutex = PThreadMutex.make()
        conditions = .allocate(capacity: conditionCount)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        for index in 0..<conditionCount {
            pthread_cond_init(conditions + index, &attributes)
        }
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        for index in 0..<conditionCount { pthread_cond_destroy(conditions + index) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable public func lock() { pthread_mutex_lock(mutex) }

    @inlinable public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the lock.
    @inlinable
    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits on condition `index`; the lock must be held and is held again on return.
    package func wait(_ index: Int = 0) {
        pthread_cond_wait(conditions + index, mutex)
    }

    /// A point on the monotonic clock, for waits that must not restart their timeout after a wake-up.
    package struct Deadline: Sendable {
        fileprivate var spec: timespec
    }

    /// The monotonic deadline `timeout` from now (negative timeouts mean now; huge ones are capped at a century).
    package static func deadline(after timeout: Duration) -> Deadline {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        // Not only negative seconds: -5 ms has 0 seconds and negative attoseconds.
        guard timeout > .zero else { return Deadline(spec: now) }
        let (seconds, attoseconds) = timeout.components
        let cappedSeconds = min(seconds, 100 * 365 * 86_400)
        let nanoseconds = attoseconds / 1_000_000_000
        let total = Int64(now.tv_nsec) + nanoseconds
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(cappedSeconds) + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        return Deadline(spec: deadline)
    }

    /// Waits on condition `index` until `deadline`; returns false when the deadline passed.
    package func wait(_ index: Int = 0, until deadline: Deadline) -> Bool {
        var spec = deadline.spec
        return pthread_cond_timedwait(conditions + index, mutex, &spec) != ETIMEDOUT
    }

    /// Waits on condition `index` for at most `timeout`; returns false when the time ran out.
    package func wait(_ index: Int = 0, timeout: Duration) -> Bool {
        wait(index, until: Self.deadline(after: timeout))
    }

    /// Wakes one waiter on condition `index`.
    @inlinable package func signal(_ index: Int = 0) { pthread_cond_signal(conditions + index) }

    /// Wakes every waiter on condition `index`.
    @inlinable package func broadcast(_ index: Int = 0) { pthread_cond_broadcast(conditions + index) }
}
