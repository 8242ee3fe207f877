import Glibc

/// A pthread mutex with condition variables on the monotonic clock: the runtime's blocking primitive.
///
/// With `WorkerThread.swift` and `Locked.swift`, the package's only unsafe pthread code.
// @unchecked Sendable: the mutex and conditions live at fixed heap addresses for the lock's whole
// life and pthread guarantees their thread safety; nothing else is stored.
package final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let conditionCount: Int

    /// A lock with `conditionCount` condition variables, addressed by index.
    package init(conditionCount: Int = 1) {
        self.conditionCount = conditionCount
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
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

    package func lock() { pthread_mutex_lock(mutex) }

    package func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the lock.
    @inline(__always)
    package func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits on condition `index`; the lock must be held and is held again on return.
    package func wait(_ index: Int = 0) {
        pthread_cond_wait(conditions + index, mutex)
    }

    /// Waits on condition `index` for at most `timeout`; returns false when the time ran out.
    package func wait(_ index: Int = 0, timeout: Duration) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = timeout.components
        let timeoutNanoseconds = seconds >= Int64.max / 1_000_000_000 ? Int64.max / 2 : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        let total = Int64(now.tv_nsec) + max(0, timeoutNanoseconds)
        var deadline = timespec()
        let (extraSeconds, overflow) = Int64(now.tv_sec).addingReportingOverflow(total / 1_000_000_000)
        deadline.tv_sec = overflow ? .max : Int(extraSeconds)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        return pthread_cond_timedwait(conditions + index, mutex, &deadline) != ETIMEDOUT
    }

    /// Wakes one waiter on condition `index`.
    package func signal(_ index: Int = 0) { pthread_cond_signal(conditions + index) }

    /// Wakes every waiter on condition `index`.
    package func broadcast(_ index: Int = 0) { pthread_cond_broadcast(conditions + index) }
}
