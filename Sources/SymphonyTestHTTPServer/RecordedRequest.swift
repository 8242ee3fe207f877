/// A request `ScriptedHTTPServer` received.
public struct RecordedRequest: Sendable {
    /// The method, e.g. "POST".
    public let method: String
    /// The request target as sent, e.g. "/hooks/a?x=1".
    public let path: String
    /// The header fields in order, names as sent.
    public let headers: [(name: String, value: String)]
    /// The body (read by its Content-Length).
    public let body: [UInt8]
    /// When the request had been read completely.
    public let arrivedAt: ContinuousClock.Instant

    /// A recorded request.
    public init(method: String, path: String, headers: [(name: String, value: String)], body: [UInt8], arrivedAt: ContinuousClock.Instant) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.arrivedAt = arrivedAt
    }

    /// The value of the first header called `name` (compared case-insensitively), if any.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The body decoded as UTF-8 (invalid bytes replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
