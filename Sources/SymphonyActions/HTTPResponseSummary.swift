/// What came back from an HTTP request: any status, 4xx and 5xx included.
public struct HTTPResponseSummary: Sendable, Hashable {
    /// The status code, e.g. 200, 429, 500.
    public var status: Int
    /// The final response's headers as received, names lower-cased.
    public var headers: [HTTPHeader]
    /// The response body, at most `HTTPRequestSpec.responseLimit` bytes.
    public var body: [UInt8]
    /// True when the body was longer than the limit (the rest was not read).
    public var bodyTruncated: Bool
    /// The Retry-After header as a delay: delta-seconds, or an HTTP-date relative to now (past
    /// dates give `.zero`); nil when absent or unparsable.
    public var retryAfter: Duration?
    /// From starting the request to the end of the response.
    public var duration: Duration

    /// A summary with every field given.
    public init(status: Int, headers: [HTTPHeader], body: [UInt8], bodyTruncated: Bool, retryAfter: Duration?, duration: Duration) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.retryAfter = retryAfter
        self.duration = duration
    }

    /// The value of the first header called `name` (compared case-insensitively), if any.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }
}
