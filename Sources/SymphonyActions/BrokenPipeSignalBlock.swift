import Glibc

/// Blocks SIGPIPE on the calling thread until `end()`, so a write to a pipe whose reader has gone
/// fails with EPIPE instead of killing the process; `end()` discards a SIGPIPE the block held back
/// and restores the thread's signal mask. Process-wide signal dispositions are left alone.
struct BrokenPipeSignalBlock {
    private var previousMask = sigset_t()
    private let alreadyBlockedOrPending: Bool

    /// Blocks SIGPIPE on this thread.
    init() {
        var brokenPipe = Self.brokenPipeSet()
        pthread_sigmask(SIG_BLOCK, &brokenPipe, &previousMask)
        alreadyBlockedOrPending = sigismember(&previousMask, SIGPIPE) == 1 || Self.isPending()
    }

    /// Discards a SIGPIPE raised while blocked and restores the previous signal mask; must run on the same thread.
    func end() {
        var brokenPipe = Self.brokenPipeSet()
        if !alreadyBlockedOrPending && Self.isPending() {
            var noWait = timespec()
            _ = sigtimedwait(&brokenPipe, nil, &noWait)
        }
        var mask = previousMask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }

    private static func brokenPipeSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        return set
    }

    private static func isPending() -> Bool {
        var pending = sigset_t()
        sigpending(&pending)
        return sigismember(&pending, SIGPIPE) == 1
    }
}
