import Glibc
import SymphonyConcurrency

/// What `ScriptedHTTPServer`'s threads share: the listening socket, the stop pipe, the script,
/// the recorded requests and the threads to join.
// @unchecked Sendable: the `var`s are only touched while holding `lock`; the descriptors are
// `let`s, closed only by `stop()` after every thread using them has been joined.
final class ServerState: @unchecked Sendable {
    /// The listening socket.
    let listener: Int32
    /// Readable once `stop()` began: every thread polls it next to its socket.
    let stopSignal: Int32
    private let stopTrigger: Int32
    private let lock = ConditionLock()
    private var script: [ScriptedResponse]
    private let fallback: ScriptedResponse
    private var recorded: [RecordedRequest] = []
    private var threads: [WorkerThread] = []
    private var acceptThread: WorkerThread?
    private var stopping = false

    /// State for a server listening on `listener`, answering from `script` then `fallback`.
    init(listener: Int32, stopSignal: Int32, stopTrigger: Int32, script: [ScriptedResponse], fallback: ScriptedResponse) {
        self.listener = listener
        self.stopSignal = stopSignal
        self.stopTrigger = stopTrigger
        self.script = script
        self.fallback = fallback
    }

    /// Starts the accepting thread.
    func start() {
        let thread = WorkerThread(name: "http-accept") { [self] in acceptConnections() }
        lock.withLock { acceptThread = thread }
    }

    /// Every request recorded so far, in arrival order.
    var requests: [RecordedRequest] { lock.withLock { recorded } }

    /// Adds `response` to the end of the script.
    func enqueue(_ response: ScriptedResponse) {
        lock.withLock { script.append(response) }
    }

    /// Records `request` and returns the scripted response for it.
    func record(_ request: RecordedRequest) -> ScriptedResponse {
        lock.withLock {
            recorded.append(request)
            lock.broadcast()
            return script.isEmpty ? fallback : script.removeFirst()
        }
    }

    /// Waits until at least `count` requests were recorded; false when `timeout` passed first.
    func waitForRequests(count: Int, timeout: Duration) -> Bool {
        let deadline = ConditionLock.deadline(after: timeout)
        return lock.withLock {
            while recorded.count < count {
                if !lock.wait(until: deadline) { return recorded.count >= count }
            }
            return true
        }
    }

    /// Stops accepting, wakes and joins every thread, closes the sockets; later calls do nothing.
    func stop() {
        let accepting: WorkerThread? = lock.withLock {
            if stopping { return nil }
            stopping = true
            return acceptThread
        }
        guard let accepting else { return }
        var byte: UInt8 = 1
        _ = write(stopTrigger, &byte, 1)
        accepting.join()
        // The accepting thread has ended, so no connection thread is added any more.
        for thread in lock.withLock({ threads }) { thread.join() }
        close(listener)
        close(stopSignal)
        close(stopTrigger)
    }

    private func acceptConnections() {
        while true {
            var descriptors = [
                pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopSignal, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 || descriptors[1].revents != 0 { return }
            guard descriptors[0].revents != 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                // The client gave up before we accepted, say; out of descriptors: don't spin.
                if errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS { usleep(10_000) }
                continue
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let handler = ConnectionHandler(socket: connection, state: self)
            let thread = WorkerThread(name: "http-conn") { handler.run() }
            lock.withLock { threads.append(thread) }
        }
    }
}
