/// An HTTP request to send: method, URL, headers, body and limits.
public struct HTTPRequestSpec: Sendable, Hashable {
    /// The request method, e.g. "POST" (the default), "GET", "PUT".
    public var method: String
    /// The URL; only http:// and https:// are accepted.
    public var url: String
    /// Headers sent in addition to (or replacing) libcurl's own Host, Accept and Content-Length.
    public var headers: [HTTPHeader]
    /// The request body (sent with a Content-Length).
    public var body: [UInt8]
    /// The most the whole request may take, connecting included.
    public var timeout: Duration
    /// The most connecting (TCP and TLS handshake) may take.
    public var connectTimeout: Duration
    /// The most response body bytes kept; a longer body is cut there and marked truncated.
    public var responseLimit: Int
    /// A PEM bundle of CA certificates trusted in addition to the system's (for tests and
    /// self-signed servers). TLS verification of peer and host name is always on.
    public var caFile: String?

    /// A request; see the properties for what each one means.
    public init(
        method: String = "POST",
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8] = [],
        timeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        responseLimit: Int = 65_536,
        caFile: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.responseLimit = responseLimit
        self.caFile = caFile
    }
}
