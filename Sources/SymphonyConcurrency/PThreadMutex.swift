import Glibc

/// Creating the package's pthread mutexes: adaptive, so a briefly held lock is spun on for a
/// moment instead of putting the waiting thread to sleep with a system call.
package enum PThreadMutex {
    /// A new, initialised adaptive mutex; the caller destroys and deallocates it.
    package static func make() -> UnsafeMutablePointer<pthread_mutex_t> {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        return mutex
    }
}
