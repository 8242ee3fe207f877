import CCurl

/// Where libcurl's callbacks put the response: the body (up to the limit) and the final
/// response's headers. Used by one transfer on one thread.
final class ResponseCollector {
    /// The body kept so far.
    private(set) var body: CappedOutput
    /// The current response's headers; reset at each status line (after a 100 Continue, say).
    private(set) var headers: [HTTPHeader] = []

    /// A collector keeping at most `limit` body bytes.
    init(limit: Int) {
        body = CappedOutput(limit: limit)
    }

    /// CURLOPT_WRITEFUNCTION: keeps what fits; past the limit, stops the transfer (which
    /// `HTTPTransport` then reports as a truncated body rather than an error).
    static let writeCallback: symphony_curl_data_callback = { data, size, count, context in
        guard let context else { return 0 }
        let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
        let byteCount = size * count
        collector.body.append(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : byteCount))
        return collector.body.truncated ? 0 : byteCount
    }

    /// CURLOPT_HEADERFUNCTION: one header line (with its CRLF) per call.
    static let headerCallback: symphony_curl_data_callback = { data, size, count, context in
        guard let context else { return 0 }
        let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
        let byteCount = size * count
        guard let data else { return byteCount }
        collector.receivedHeaderLine(UnsafeRawBufferPointer(start: data, count: byteCount))
        return byteCount
    }

    private func receivedHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var length = bytes.count
        while length > 0, bytes[length - 1] == UInt8(ascii: "\r") || bytes[length - 1] == UInt8(ascii: "\n") { length -= 1 }
        let line = Substring(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<length]), as: UTF8.self))
        if line.hasPrefix("HTTP/") {
            headers = []
        } else if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
            // An obsolete folded continuation of the previous header's value.
            headers[headers.count - 1].value += " " + Self.trimmed(line)
        } else if let colon = line.firstIndex(of: ":") {
            headers.append(HTTPHeader(name: line[..<colon].lowercased(), value: Self.trimmed(line[line.index(after: colon)...])))
        }
    }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
