import Glibc
import SymphonyConcurrency
import SymphonyActions
import SymphonyTestHTTPServer
import Testing

@Suite struct ScriptedHTTPServerTests {
    /// Connects to 127.0.0.1:`port`, sends `bytes`, closes without reading.
    func sendAndHangUp(port: Int, _ bytes: String) {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        _ = bytes.utf8CString.withUnsafeBytes { send(client, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    @Test("clients hanging up mid-request or sending garbage do not disturb the server")
    func robustAgainstClients() throws {
        let server = try ScriptedHTTPServer(responses: [.status(201, body: "made")])
        sendAndHangUp(port: server.port, "")
        sendAndHangUp(port: server.port, "POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial")
        sendAndHangUp(port: server.port, "\u{16}\u{03}\u{01} not http")
        sendAndHangUp(port: server.port, "GET /half-a-head HTTP/1.1\r\nHost: x")
        let response = try HTTPTransport().send(HTTPRequestSpec(method: "GET", url: server.url("/after")))
        #expect(response.status == 201)
        #expect(server.requests.map(\.path) == ["/after"])
    }

    @Test("the script is used in order, then the fallback; enqueue extends it")
    func scriptOrder() throws {
        let server = try ScriptedHTTPServer(responses: [.status(500), .status(429)], fallback: .status(204))
        let transport = HTTPTransport()
        let request = HTTPRequestSpec(url: server.url("/"))
        #expect(try transport.send(request).status == 500)
        #expect(try transport.send(request).status == 429)
        #expect(try transport.send(request).status == 204)
        server.enqueue(.status(503))
        #expect(try transport.send(request).status == 503)
        #expect(try transport.send(request).status == 204)
        #expect(server.waitForRequests(count: 5, timeout: .seconds(1)))
        #expect(!server.waitForRequests(count: 6, timeout: .milliseconds(50)))
        let arrivals = server.requests.map(\.arrivedAt)
        #expect(arrivals == arrivals.sorted())
    }

    @Test("stop ends a hanging response at once and refuses new connections")
    func stopEndsHang() throws {
        let server = try ScriptedHTTPServer(responses: [.hang(.seconds(60))])
        let port = server.port
        let started = ContinuousClock.now
        let outcome = Locked<HTTPTransportError?>(nil)
        let client = WorkerThread {
            do throws(HTTPTransportError) {
                _ = try HTTPTransport().send(HTTPRequestSpec(url: "http://127.0.0.1:\(port)/", timeout: .seconds(30)))
            } catch {
                outcome.withLock { $0 = error }
            }
        }
        #expect(server.waitForRequests(count: 1, timeout: .seconds(10)))
        server.stop()
        client.join()
        #expect(ContinuousClock.now - started < .seconds(10))
        if case .connectionFailed = outcome.withLock({ $0 }) {} else { Issue.record("expected connectionFailed, got \(String(describing: outcome.withLock { $0 }))") }
        server.stop()  // a second stop does nothing
        let refused = try #require(throws: HTTPTransportError.self) { try HTTPTransport().send(HTTPRequestSpec(url: "http://127.0.0.1:\(port)/")) }
        if case .connectionFailed = refused {} else { Issue.record("expected connectionFailed, got \(refused)") }
    }
}
