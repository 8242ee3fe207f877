import SymphonyJSON

/// A rendered `http` action: a request with its body.
public struct HTTPSpec: Sendable, Hashable {
    /// A request header. Its value may name environment variables (`${NAME}`), substituted only
    /// when the request is sent: the value stored and shown keeps the reference, never the secret.
    public struct Header: Sendable, Hashable {
        /// The header's name.
        public var name: String
        /// The value, with `${NAME}` references unresolved.
        public var value: String

        /// A header.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }

        /// True when the value takes anything from the environment: shown masked.
        public var isSecret: Bool { value.contains("${") }
    }

    /// `POST` unless the rule says otherwise.
    public var method: String
    /// The URL, `http://` or `https://`; placeholders in it were percent-encoded.
    public var url: String
    /// The headers, in order.
    public var headers: [Header]
    /// The body.
    public var body: String
    /// How long the whole request may take.
    public var timeout: Duration

    /// A rendered `http` action.
    public init(method: String = "POST", url: String, headers: [Header] = [], body: String = "", timeout: Duration = .seconds(10)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// `host:port` of the URL (the default port of its scheme when it names none), or nil when it has no host.
    public var hostAndPort: String? {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { return nil }
        let scheme = url[..<colon].lowercased()
        let rest = url[url.index(colon, offsetBy: 3)...]
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty else { return nil }
        let hasPort = authority.last != "]" && authority.contains(":")
        return hasPort ? authority.lowercased() : "\(authority.lowercased()):\(scheme == "https" ? 443 : 80)"
    }

    /// The URL's host, lower-cased (what `actions:http:<host>` permissions name).
    public var host: String? {
        guard let hostAndPort else { return nil }
        if hostAndPort.hasPrefix("["), let end = hostAndPort.firstIndex(of: "]") {
            return String(hostAndPort[...end])
        }
        return String(hostAndPort.prefix { $0 != ":" })
    }

    var json: JSONValue {
        [
            "method": .string(method), "url": .string(url), "body": .string(body), "timeout_ms": .int(timeout.milliseconds),
            "headers": .array(headers.map { .array([.string($0.name), .string($0.value)]) }),
        ]
    }

    init?(json: JSONValue) {
        guard let method = json["method"]?.stringValue, let url = json["url"]?.stringValue, let timeout = json["timeout_ms"]?.int64Value
        else { return nil }
        self.method = method
        self.url = url
        body = json["body"]?.stringValue ?? ""
        self.timeout = .milliseconds(timeout)
        var headers: [Header] = []
        if case .array(let items)? = json["headers"] {
            for item in items {
                guard let pair = item.stringArray, pair.count == 2 else { return nil }
                headers.append(Header(name: pair[0], value: pair[1]))
            }
        }
        self.headers = headers
    }
}
