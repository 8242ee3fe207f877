import Glibc

/// An OS thread that runs one closure and can be joined.
package final class WorkerThread: Sendable {
    private final class Start {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    private let handle: pthread_t

    /// Starts a thread that runs `body`; `name` (at most 15 bytes) shows in `top -H`, `perf` and debuggers.
    package init(name: String? = nil, body: @escaping @Sendable () -> Void) {
        let named: @Sendable () -> Void = {
            if let name { Self.nameCurrentThread(name) }
            body()
        }
        let start = Unmanaged.passRetained(Start(named)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { argument in
                let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
                start.body()
                return nil
            }, start)
        precondition(result == 0, "pthread_create failed with \(result)")
        handle = thread

    }

    /// Names the calling thread (Linux keeps the first 15 bytes). Glibc's `pthread_setname_np` is
    /// not visible to Swift, so this writes the thread's `comm` file instead; failure is harmless.
    private static func nameCurrentThread(_ name: String) {
        let descriptor = open("/proc/thread-self/comm", O_WRONLY)
        guard descriptor >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    /// True when called on this thread.
    package var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    /// Waits for the thread to finish; must not be called on the thread itself.
    package func join() {
        precondition(!isCurrent, "a thread cannot join itself")
        pthread_join(handle, nil)
    }
}
