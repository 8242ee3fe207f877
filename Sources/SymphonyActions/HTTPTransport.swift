import CCurl
import Glibc

/// Sends HTTP requests with libcurl. Synchronous and thread-safe: each call blocks its (pool)
/// thread. One libcurl easy handle per call, CURLOPT_NOSIGNAL=1, no redirects followed,
/// protocols limited to http and https, TLS peer and host verification always on,
/// curl_global_init once. Proxies come from the usual environment variables (http_proxy,
/// HTTPS_PROXY, NO_PROXY), as libcurl does by default.
public final class HTTPTransport: Sendable {
    /// curl_global_init's result: a static `let`, so it runs once, before any handle exists.
    private static let globalInitialization: CURLcode = symphony_curl_global_init()
    private static let userAgent = "Symphony"

    /// A transport; initialises libcurl the first time one is made.
    public init() {
        _ = Self.globalInitialization
    }

    /// Sends `request` and returns the response whatever its status (4xx and 5xx included);
    /// throws only when no response came: bad URL or request, connection failure, timeout, TLS failure.
    public func send(_ request: HTTPRequestSpec) throws(HTTPTransportError) -> HTTPResponseSummary {
        let target = try HTTPTarget(request.url)
        let method = request.method
        guard !method.isEmpty, method.utf8.count <= 64, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw .invalidRequest("the method is not an HTTP token")
        }
        var headerLines: [String] = []
        for header in request.headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalidRequest("a header name is empty or not an HTTP token")
            }
            guard !header.value.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) else {
                throw .invalidRequest("the value of header '\(header.name)' contains a line break or NUL byte")
            }
            // "Name;" is libcurl's way to send a header with an empty value ("Name:" would remove it).
            headerLines.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        if let caFile = request.caFile, caFile.isEmpty || caFile.utf8.contains(0) {
            throw .invalidRequest("the CA file path is empty or contains a NUL byte")
        }
        // "Expect:" stops libcurl's 100-continue wait (a server that never says "100 Continue" would
        // cost a second); "Content-Type:" stops it labelling every body as a form unless the caller chose a type.
        headerLines.append("Expect:")
        if !request.headers.contains(where: { $0.name.lowercased() == "content-type" }) { headerLines.append("Content-Type:") }
        guard Self.globalInitialization == CURLE_OK else { throw .connectionFailed("\(target.origin): libcurl could not be initialised") }

        // Made before the handle, so they are freed after it.
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for line in headerLines {
            guard let appended = curl_slist_append(headerList, line) else {
                throw .connectionFailed("\(target.origin): out of memory")
            }
            headerList = appended
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: symphony_curl_error_size())
        errorBuffer.initialize(repeating: 0, count: symphony_curl_error_size())
        defer { errorBuffer.deallocate() }

        guard let handle = curl_easy_init() else { throw .connectionFailed("\(target.origin): libcurl could not create a handle") }
        defer { curl_easy_cleanup(handle) }
        let collector = ResponseCollector(limit: request.responseLimit)
        let context = Unmanaged.passUnretained(collector).toOpaque()

        var optionResults: [CURLcode] = [
            symphony_curl_setopt_pointer(handle, CURLOPT_CURLU, UnsafeMutableRawPointer(target.handle)),
            symphony_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            symphony_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0),
            symphony_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            symphony_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout)),
            symphony_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)),
            symphony_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1),
            symphony_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2),
            symphony_curl_setopt_string(handle, CURLOPT_USERAGENT, Self.userAgent),
            symphony_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList),
            symphony_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer),
            symphony_curl_set_write_callback(handle, ResponseCollector.writeCallback),
            symphony_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context),
            symphony_curl_set_header_callback(handle, ResponseCollector.headerCallback),
            symphony_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context),
        ]
        if let caFile = request.caFile {
            // CAINFO alone would replace the system bundle; the system directory keeps it trusted too.
            optionResults.append(symphony_curl_setopt_string(handle, CURLOPT_CAINFO, caFile))
            optionResults.append(symphony_curl_setopt_string(handle, CURLOPT_CAPATH, "/etc/ssl/certs"))
        }
        optionResults += Self.setMethodAndBody(handle, method: method, body: request.body)
        guard optionResults.allSatisfy({ $0 == CURLE_OK }) else {
            throw .invalidRequest("libcurl refused an option for \(target.origin)")
        }

        let started = ContinuousClock.now
        // libcurl sends with MSG_NOSIGNAL, but with CURLOPT_NOSIGNAL it leaves SIGPIPE to the
        // application; blocking it on this thread covers any TLS path that writes differently.
        let brokenPipeBlock = BrokenPipeSignalBlock()
        let result = withExtendedLifetime((collector, target)) { curl_easy_perform(handle) }
        brokenPipeBlock.end()
        let duration = ContinuousClock.now - started
        // A write error after the limit was passed is the body being cut short on purpose.
        guard result == CURLE_OK || (result == CURLE_WRITE_ERROR && collector.body.truncated) else {
            throw Self.transportError(result, handle: handle, errorBuffer: errorBuffer, origin: target.origin)
        }
        var status = 0
        _ = symphony_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let headers = collector.headers
        let retryAfter = headers.first { $0.name == "retry-after" }.flatMap { RetryAfterParser.delay(from: $0.value) }
        return HTTPResponseSummary(
            status: status, headers: headers, body: collector.body.bytes, bodyTruncated: collector.body.truncated,
            retryAfter: retryAfter, duration: duration)
    }

    /// GET without a body and HEAD use libcurl's own modes; everything else is a POST with
    /// Content-Length whose method is replaced when it is not POST.
    private static func setMethodAndBody(_ handle: UnsafeMutableRawPointer, method: String, body: [UInt8]) -> [CURLcode] {
        if method == "GET" && body.isEmpty { return [symphony_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)] }
        if method == "HEAD" { return [symphony_curl_setopt_long(handle, CURLOPT_NOBODY, 1)] }
        var results = [symphony_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))]
        // COPYPOSTFIELDS copies POSTFIELDSIZE bytes (NULs included); the appended 0 keeps the pointer valid for an empty body.
        var bytes = body
        bytes.append(0)
        results.append(bytes.withUnsafeMutableBytes { symphony_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) })
        if method != "POST" { results.append(symphony_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)) }
        return results
    }

    /// The error for a failed transfer; messages carry the origin and libcurl's or the OS's
    /// description, never the URL's path or query, headers or bodies.
    private static func transportError(
        _ code: CURLcode, handle: UnsafeMutableRawPointer, errorBuffer: UnsafePointer<CChar>, origin: String
    ) -> HTTPTransportError {
        let summary = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .invalidURL("\(origin): \(summary)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            // The TLS library's detail (e.g. "certificate has expired") is worth showing; it holds no payload.
            let detail = printable(String(cString: errorBuffer))
            return .tls("\(origin): \(detail.isEmpty ? summary : detail)")
        default:
            var osError = 0
            _ = symphony_curl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osError)
            let cause = osError > 0 && osError < Int(Int32.max) ? " (\(String(cString: strerror(Int32(osError)))))" : ""
            return .connectionFailed("\(origin): \(summary)\(cause)")
        }
    }

    /// At most 200 characters, control characters dropped.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(200).map(Character.init))
    }

    /// A timeout for libcurl: whole milliseconds, at least 1 (0 would mean "never").
    private static func milliseconds(_ duration: Duration) -> Int {
        Int(max(1, duration.millisecondsRoundedUp(clampedTo: Int64(Int32.max))))
    }

    /// RFC 9110 token characters, for methods and header names.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
