import Glibc
import SymphonyConcurrency

/// The write end of the socket pair the signal handler writes to (set once, before any handler is installed).
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// Signals turned into calls on an ordinary thread, with no moment at which one is lost.
///
/// A handler installed with `sigaction` writes the signal's number to a socket pair (the one thing it
/// does: `write` is async-signal-safe) and a thread of its own reads the other end and calls the
/// handler registered for that number. `watch` unblocks the signals in the calling thread, which
/// must outlive the run (the main thread). Until `watch` returns, a signal has its default effect
/// (SIGINT and SIGTERM end the process); from then on, every one reaches its handler. (A signal
/// ignored first and handed to a dispatch source is dropped if it arrives before the source is
/// registered.)
enum SignalWatcher {
    private static let handlers = Locked<[Int32: @Sendable (Int32) -> Void]>([:])
    private static let started = Locked(false)

    /// Calls `handler` on the watcher's thread for each of `signals` received from now on
    /// (replacing an earlier handler of the same signal).
    static func watch(_ signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) {
        startIfNeeded()
        handlers.withLock { for number in signals { $0[number] = handler } }
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                let saved = errno
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWrite, &byte, 1)
                errno = saved
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        // A process may start with signals blocked (a parent's mask is inherited across exec):
        // unblocked in this thread, which outlives the run, they are delivered here.
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static func startIfNeeded() {
        started.withLock { started in
            guard !started else { return }
            started = true
            var ends: [Int32] = [0, 0]
            // Close-on-exec from the start (programs that actions run, maybe on other threads already, inherit neither end).
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
                preconditionFailure("socketpair failed (errno \(errno)): no descriptors left at start-up")
            }
            _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)  // the handler never blocks: with the buffer full, a signal more is dropped
            signalPipeWrite = ends[1]
            let readEnd = ends[0]
            _ = WorkerThread(name: "sym-signals") {
                var byte: UInt8 = 0
                while true {
                    let count = read(readEnd, &byte, 1)
                    if count < 0 && errno == EINTR { continue }
                    guard count == 1 else { return }
                    let number = Int32(byte)
                    if let handler = handlers.withLock({ $0[number] }) { handler(number) }
                }
            }
        }
    }
}
