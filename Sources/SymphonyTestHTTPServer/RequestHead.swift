/// The request line and headers of an HTTP/1.1 request.
struct RequestHead {
    let method: String
    let target: String
    let headers: [(name: String, value: String)]
    /// The Content-Length (0 when absent).
    let contentLength: Int
    /// True when the client sent "Expect: 100-continue".
    let expectsContinue: Bool

    /// Parses `bytes` (the head without its final blank line); nil when malformed.
    init?(_ bytes: [UInt8]) {
        // "\r\n" is a single Character in Swift.
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let requestLine = lines.first else { return nil }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].hasPrefix("HTTP/") else { return nil }
        method = String(parts[0])
        target = String(parts[1])
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((String(line[..<colon]), String(value.reversed().drop { $0 == " " || $0 == "\t" }.reversed())))
        }
        self.headers = headers
        let lengthValue = headers.first { $0.name.lowercased() == "content-length" }?.value ?? "0"
        guard let length = Int(lengthValue), length >= 0 else { return nil }
        contentLength = length
        expectsContinue = headers.contains { $0.name.lowercased() == "expect" && $0.value.lowercased() == "100-continue" }
    }
}
