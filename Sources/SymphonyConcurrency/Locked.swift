import Glibc

/// A value behind a pthread mutex: the package's lock for shared state.
///
/// Why not `Synchronization.Mutex`: on Linux its futex-based lock lives in the uninstrumented
/// standard library, so ThreadSanitizer cannot see its synchronisation and reports every guarded
/// access as a race. A pthread mutex is intercepted by ThreadSanitizer, which keeps `make tsan`
/// meaningful.
// @unchecked Sendable: `value` is only reachable inside `withLock`, which holds the mutex; like
// `Mutex`, callers must not let a non-Sendable value escape the closure.
public final class Locked<Value>: @unchecked Sendable {
    // Visible to other modules' inlined `withLock` (generic code across modules is otherwise
    // called unspecialized, looking up type metadata on every call).
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // Unchecked: the mutex already makes every access exclusive, and the runtime's dynamic check
    // (a begin and an end call per `withLock`) cost more than taking the lock.
    @exclusivity(unchecked) @usableFromInline var value: Value

    /// A lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = PThreadMutex.make()
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
