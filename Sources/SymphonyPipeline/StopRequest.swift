import Glibc
import SymphonyConcurrency
import Synchronization

/// A stop asked for by SIGINT or SIGTERM during `symphony run`: requested once, then seen by the
/// reader (which reads no more input, but handles what it already read), by the run's effects
/// (which publish no more derived events) and by the finish.
///
/// A reader blocked waiting for input must notice at once, so the request also makes a pipe
/// readable: `LineReader` polls it together with its input.
public final class StopRequest: Sendable {
    private let requested = Atomic<Bool>(false)
    private let why = Locked<String>("")
    /// The pipe's read end, readable once a stop was requested; the write end gets one byte then.
    package let wakeDescriptor: Int32
    private let wakeWriter: Int32

    /// Why the stop request could not be set up.
    public struct SetupError: Error, CustomStringConvertible {
        let reason: String
        public var description: String { "cannot set up signal handling: \(reason)" }
    }

    /// A stop not yet requested, with its wake-up pipe.
    public init() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SetupError(reason: String(cString: strerror(errno))) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }  // not inherited by anything the run starts
        wakeDescriptor = ends[0]
        wakeWriter = ends[1]  // written once, one byte: never fills, never blocks
    }

    deinit {
        close(wakeDescriptor)
        close(wakeWriter)
    }

    /// True once a stop was requested.
    public var isRequested: Bool { requested.load(ordering: .acquiring) }

    /// Why the stop was requested (the first reason given), e.g. `SIGINT or SIGTERM`.
    public var reason: String { why.withLock { $0 } }

    /// Waits until a stop is requested.
    public func wait() {
        while !isRequested {
            var descriptor = pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 1_000)
        }
    }

    /// Sleeps for `duration`, or less when a stop is requested meanwhile.
    public func sleep(for duration: Duration) {
        guard !isRequested else { return }
        let (seconds, attoseconds) = duration.components
        var descriptor = pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, Int32(clamping: seconds * 1_000 + attoseconds / 1_000_000_000_000_000))
    }

    /// Requests the stop (a second request changes nothing) and wakes a reader waiting for input.
    public func request(because reason: String = "SIGINT or SIGTERM") {
        why.withLock { if $0.isEmpty { $0 = reason } }
        guard !requested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }
}
