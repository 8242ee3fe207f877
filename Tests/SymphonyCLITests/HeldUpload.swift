import Glibc
import Testing

/// A `POST` to a local server that sends its head and only part of its body, then waits: the
/// request stays in flight (for `symphony serve`, it holds one of the `--max-in-flight` slots)
/// until `release()` or deinit closes the connection.
final class HeldUpload {
    private var socket: Int32 = -1

    /// Connects to 127.0.0.1:`port` and sends the head of `POST path` (with the bearer `token`,
    /// if any) announcing a 100-byte body, and 8 bytes of it.
    init(port: Int, path: String = "/v1/events", token: String? = nil) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        let authorization = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(authorization)Content-Length: 100\r\n\r\n{\"type\":"
        let sent = head.withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        try #require(sent == head.utf8.count, "sent \(sent) of \(head.utf8.count) bytes: errno \(errno)")
    }

    /// Closes the connection: the server's request ends (its body cut short).
    func release() {
        if socket >= 0 { close(socket) }
        socket = -1
    }

    deinit { release() }
}
