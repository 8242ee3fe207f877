import Foundation
import Glibc
import SymphonyActions
import SymphonyConcurrency
import SymphonyTestHTTPServer
import Testing

@Suite struct HTTPTransportTests {
    let transport = HTTPTransport()

    @Test("a 200 comes back with body and headers; the server saw method, path, headers and body")
    func success() throws {
        let server = try ScriptedHTTPServer(responses: [.status(200, headers: [("X-Reply", "yes")], body: "hello")])
        let response = try transport.send(HTTPRequestSpec(
            url: server.url("/hooks/a?x=1&y=two"),
            headers: [HTTPHeader(name: "X-Token", value: "abc123"), HTTPHeader(name: "Content-Type", value: "application/json")],
            body: Array(#"{"a":1}"#.utf8)))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello")
        #expect(!response.bodyTruncated)
        #expect(response.header("X-Reply") == "yes")
        #expect(response.headers.contains(HTTPHeader(name: "x-reply", value: "yes")))
        #expect(response.retryAfter == nil)
        let request = try #require(server.requests.first)
        #expect(server.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.path == "/hooks/a?x=1&y=two")
        #expect(request.header("x-token") == "abc123")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.bodyText == #"{"a":1}"#)
        #expect(request.header("Expect") == nil)
    }

    @Test("other methods: GET without a body, PUT with one, binary bodies intact")
    func methods() throws {
        let server = try ScriptedHTTPServer()
        let binary: [UInt8] = [0, 1, 2, 255, 0, 10, 13]
        _ = try transport.send(HTTPRequestSpec(method: "GET", url: server.url("/status")))
        _ = try transport.send(HTTPRequestSpec(method: "PUT", url: server.url("/item/1"), body: binary))
        let large = [UInt8](repeating: 65, count: 200_000)
        _ = try transport.send(HTTPRequestSpec(url: server.url("/large"), body: large))
        let requests = server.requests
        #expect(requests.map(\.method) == ["GET", "PUT", "POST"])
        #expect(requests[0].body.isEmpty)
        #expect(requests[1].body == binary)
        // No Content-Type unless the caller gives one (libcurl would say it is a form).
        #expect(requests[1].header("Content-Type") == nil)
        #expect(requests[2].body == large)
    }

    @Test("a 500 is returned, not thrown")
    func serverError() throws {
        let server = try ScriptedHTTPServer(responses: [.status(500, body: "boom")])
        let response = try transport.send(HTTPRequestSpec(url: server.url("/")))
        #expect(response.status == 500)
        #expect(String(decoding: response.body, as: UTF8.self) == "boom")
    }

    @Test("Retry-After: delta-seconds and HTTP-dates (past ones give zero)")
    func retryAfter() throws {
        var future = time(nil) + 3600
        var parts = tm()
        gmtime_r(&future, &parts)
        var formatted = [CChar](repeating: 0, count: 64)
        let length = strftime(&formatted, formatted.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        let httpDate = String(decoding: formatted.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let server = try ScriptedHTTPServer(responses: [
            .status(429, headers: [("Retry-After", "7")]),
            .status(503, headers: [("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")]),
            .status(503, headers: [("Retry-After", httpDate)]),
            .status(503, headers: [("Retry-After", "soon")]),
        ])
        let request = HTTPRequestSpec(url: server.url("/"))
        let limited = try transport.send(request)
        #expect(limited.status == 429)
        #expect(limited.retryAfter == .seconds(7))
        #expect(try transport.send(request).retryAfter == .zero)
        let later = try #require(try transport.send(request).retryAfter)
        #expect(later > .seconds(3590) && later <= .seconds(3600))
        #expect(try transport.send(request).retryAfter == nil)
    }

    @Test("a server that does not answer in time gives .timedOut")
    func timeout() throws {
        let server = try ScriptedHTTPServer(responses: [.hang(.seconds(30))])
        let started = ContinuousClock.now
        #expect(throws: HTTPTransportError.timedOut) {
            try transport.send(HTTPRequestSpec(url: server.url("/slow"), timeout: .milliseconds(300)))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(server.waitForRequests(count: 1, timeout: .seconds(5)))
    }

    @Test("a refused connection gives .connectionFailed naming only scheme, host and port")
    func refused() throws {
        let stopped = try ScriptedHTTPServer()
        let port = stopped.port
        stopped.stop()
        let error = try #require(throws: HTTPTransportError.self) {
            try transport.send(HTTPRequestSpec(url: "http://127.0.0.1:\(port)/secret-path?token=abc"))
        }
        guard case .connectionFailed(let message) = error else {
            Issue.record("expected connectionFailed, got \(error)")
            return
        }
        #expect(message.contains("http://127.0.0.1:\(port)"))
        #expect(!error.description.contains("secret-path") && !error.description.contains("token"))
    }

    @Test("a connection closed without an answer gives .connectionFailed")
    func closedWithoutAnswer() throws {
        let server = try ScriptedHTTPServer(responses: [.close])
        let error = try #require(throws: HTTPTransportError.self) { try transport.send(HTTPRequestSpec(url: server.url("/"))) }
        guard case .connectionFailed = error else {
            Issue.record("expected connectionFailed, got \(error)")
            return
        }
    }

    @Test("invalid URLs and other schemes give .invalidURL without the query or credentials")
    func invalidURL() throws {
        for url in ["not a url", "", "ftp://example.com/file", "file:///etc/passwd", "http://", "example.com/path", "http://exa mple.com/", "http://host:99999/"] {
            let error = try #require(throws: HTTPTransportError.self, "\(url)") { try transport.send(HTTPRequestSpec(url: url)) }
            guard case .invalidURL = error else {
                Issue.record("\(url): expected invalidURL, got \(error)")
                continue
            }
        }
        let error = try #require(throws: HTTPTransportError.self) {
            try transport.send(HTTPRequestSpec(url: "ftp://user:hunter2@example.com/x?token=abc"))
        }
        #expect(!error.description.contains("hunter2") && !error.description.contains("token"))
    }

    @Test("malformed methods and headers are refused (no header injection)")
    func invalidRequest() throws {
        let server = try ScriptedHTTPServer()
        let injected = HTTPRequestSpec(url: server.url("/"), headers: [HTTPHeader(name: "X-A", value: "secret\r\nX-Evil: 1")])
        let error = try #require(throws: HTTPTransportError.self) { try transport.send(injected) }
        #expect(!error.description.contains("secret"))
        #expect(throws: HTTPTransportError.self) {
            try transport.send(HTTPRequestSpec(url: server.url("/"), headers: [HTTPHeader(name: "Bad Name", value: "x")]))
        }
        #expect(throws: HTTPTransportError.self) { try transport.send(HTTPRequestSpec(method: "GET /x HTTP/1.1\r\n", url: server.url("/"))) }
        #expect(server.requests.isEmpty)
    }

    @Test("a response body over the limit is truncated and marked")
    func responseLimit() throws {
        let server = try ScriptedHTTPServer(responses: [
            .status(200, body: String(repeating: "x", count: 100_000)),
            .status(200, body: "12345"),
        ])
        let response = try transport.send(HTTPRequestSpec(url: server.url("/"), responseLimit: 1000))
        #expect(response.status == 200)
        #expect(response.body == [UInt8](repeating: UInt8(ascii: "x"), count: 1000))
        #expect(response.bodyTruncated)
        let exact = try transport.send(HTTPRequestSpec(url: server.url("/"), responseLimit: 5))
        #expect(String(decoding: exact.body, as: UTF8.self) == "12345")
        #expect(!exact.bodyTruncated)
    }

    @Test("https to a plain-HTTP port fails with an error, not a crash")
    func tlsToPlainPort() throws {
        let server = try ScriptedHTTPServer()
        let error = try #require(throws: HTTPTransportError.self) {
            try transport.send(HTTPRequestSpec(url: "https://127.0.0.1:\(server.port)/", timeout: .seconds(5)))
        }
        // The server answers the handshake with a plain-text 400, which is no TLS record.
        guard case .tls(let message) = error else {
            Issue.record("expected tls, got \(error)")
            return
        }
        #expect(message.hasPrefix("https://127.0.0.1:\(server.port): "))
        #expect(server.requests.isEmpty)
    }

    @Test("one transport serves many threads at once")
    func concurrentRequests() throws {
        let server = try ScriptedHTTPServer()
        let statuses = Locked([Int]())
        let threads = (0..<8).map { index in
            WorkerThread { [transport] in
                for round in 0..<5 {
                    let response = try? transport.send(HTTPRequestSpec(url: server.url("/t\(index)/\(round)")))
                    statuses.withLock { $0.append(response?.status ?? -1) }
                }
            }
        }
        threads.forEach { $0.join() }
        #expect(statuses.withLock { $0 } == [Int](repeating: 200, count: 40))
        #expect(server.requests.count == 40)
    }
}
