import Glibc

/// An HTTP/1.1 server for tests: listens on 127.0.0.1 at a port the kernel picks, records every
/// request and answers each from a script (in order), then with a fallback. One thread accepts,
/// one thread serves each connection, every response closes its connection. Stopped by `stop()`
/// or when released; a stopped server's port refuses connections.
public final class ScriptedHTTPServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let state: ServerState

    /// Starts listening; requests get `responses` in order, then `fallback` each.
    public init(responses: [ScriptedResponse] = [], fallback: ScriptedResponse = .status(200)) throws(ScriptedHTTPServerError) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw Self.failure("socket") }
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 128) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            let error = Self.failure("bind/listen")
            close(listener)
            throw error
        }
        var stopPipe: [Int32] = [-1, -1]
        guard pipe(&stopPipe) == 0 else {
            let error = Self.failure("pipe")
            close(listener)
            throw error
        }
        for descriptor in stopPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        port = Int(UInt16(bigEndian: address.sin_port))
        state = ServerState(listener: listener, stopSignal: stopPipe[0], stopTrigger: stopPipe[1], script: responses, fallback: fallback)
        state.start()
    }

    deinit {
        state.stop()
    }

    /// "http://127.0.0.1:<port>".
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `baseURL` followed by `path` (which should start with "/").
    public func url(_ path: String) -> String { baseURL + path }

    /// Every request received so far, in arrival order.
    public var requests: [RecordedRequest] { state.requests }

    /// Adds `response` to the end of the script (before the fallback takes over).
    public func enqueue(_ response: ScriptedResponse) { state.enqueue(response) }

    /// Waits until at least `count` requests have been received; false if `timeout` passed first.
    public func waitForRequests(count: Int, timeout: Duration) -> Bool {
        state.waitForRequests(count: count, timeout: timeout)
    }

    /// Stops listening, ends hanging responses, closes every connection and joins the server's
    /// threads; calling it again does nothing.
    public func stop() { state.stop() }

    private static func failure(_ call: String) -> ScriptedHTTPServerError {
        ScriptedHTTPServerError(message: "\(call) failed: \(String(cString: strerror(errno)))")
    }
}
