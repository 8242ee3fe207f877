import Glibc

/// Serves one accepted connection: reads one HTTP/1.1 request, records it, acts out its scripted
/// response, closes. Gives up quietly when the client hangs up or the server stops.
struct ConnectionHandler: Sendable {
    /// The longest wait for the next bytes of a request.
    static let readTimeout: Duration = .seconds(60)
    /// The largest request head (request line and headers) read.
    static let headLimit = 1 << 20
    /// The largest request body read.
    static let bodyLimit = 64 << 20

    let socket: Int32
    let state: ServerState

    /// Handles the connection and closes it.
    func run() {
        defer { close(socket) }
        var buffer: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            guard buffer.count <= Self.headLimit else { return respond(status: 431) }
            guard receive(into: &buffer) else { return }
            // A TLS handshake, say: answer at once rather than wait for a head that never comes.
            guard Self.startsLikeRequest(buffer) else { return respond(status: 400) }
            headEnd = Self.endOfHead(in: buffer)
        }
        guard let headEnd, let head = RequestHead(Array(buffer[..<headEnd])) else { return respond(status: 400) }
        guard head.contentLength <= Self.bodyLimit else { return respond(status: 413) }
        var body = Array(buffer[(headEnd + 4)...])
        if body.count < head.contentLength, head.expectsContinue {
            send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        while body.count < head.contentLength {
            guard receive(into: &body) else { return }
        }
        if body.count > head.contentLength { body.removeLast(body.count - head.contentLength) }

        let request = RecordedRequest(
            method: head.method, path: head.target, headers: head.headers, body: body, arrivedAt: .now)
        switch state.record(request) {
        case .status(let status, let headers, let body):
            respond(status: status, headers: headers, body: body)
        case .hang(let duration):
            _ = waitForStop(timeout: duration)
        case .close:
            return
        }
    }

    /// Reads what is available into `buffer`; false on end of file, error, timeout or stop.
    private func receive(into buffer: inout [UInt8]) -> Bool {
        guard waitForData() else { return false }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    /// Waits for the socket to be readable; false on timeout or when the server stops.
    private func waitForData() -> Bool {
        let milliseconds = Int32(Self.readTimeout.components.seconds * 1000)
        while true {
            var descriptors = [
                pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: state.stopSignal, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0 && descriptors[1].revents == 0
        }
    }

    /// Sleeps for `timeout` or until the server stops; true when it stopped.
    private func waitForStop(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + max(.zero, timeout)
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else { return false }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
            var descriptor = pollfd(fd: state.stopSignal, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, milliseconds) > 0 { return true }
        }
    }

    private func respond(status: Int, headers: [(String, String)] = [], body: String = "") {
        let bodyBytes = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(Self.reason(for: status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(bodyBytes.count)\r\nConnection: close\r\n\r\n"
        send(Array(head.utf8) + bodyBytes)
    }

    /// Sends all of `bytes`, giving up silently when the client has gone (no SIGPIPE).
    private func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// False when the bytes before the first space (all of them, before it arrives) are not a method name.
    private static func startsLikeRequest(_ buffer: [UInt8]) -> Bool {
        let method = buffer.prefix { $0 != UInt8(ascii: " ") }
        return method.count <= 32 && method.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// The index of the "\r\n\r\n" ending the request head, if it has arrived.
    private static func endOfHead(in buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private static func reason(for status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}
