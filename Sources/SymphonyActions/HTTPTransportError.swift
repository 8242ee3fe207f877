/// Why an HTTP request got no response. Messages name at most the URL's scheme://host:port, never
/// its path, query, user information, header values or bodies.
public enum HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL cannot be used: unparsable, or not http/https.
    case invalidURL(String)
    /// Connecting or exchanging data failed: refused, unresolvable host, reset, empty reply…
    case connectionFailed(String)
    /// The request's timeout (or connect timeout) passed.
    case timedOut
    /// The TLS handshake or certificate verification failed.
    case tls(String)
    /// The request itself cannot be sent: a malformed method or header (added to the brief's
    /// four cases so header injection is refused rather than passed to the server).
    case invalidRequest(String)

    /// One sentence saying what went wrong.
    public var description: String {
        switch self {
        case .invalidURL(let message): "invalid URL: \(message)"
        case .connectionFailed(let message): "HTTP connection failed: \(message)"
        case .timedOut: "the HTTP request timed out"
        case .tls(let message): "TLS failed: \(message)"
        case .invalidRequest(let message): "invalid HTTP request: \(message)"
        }
    }
}
