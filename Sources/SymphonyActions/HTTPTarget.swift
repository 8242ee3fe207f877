import CCurl
import Glibc

/// A URL parsed by libcurl's URL API and checked to be http or https; owns the parsed handle,
/// which the transfer uses directly so what was checked is what is requested.
final class HTTPTarget {
    /// The parsed URL, for CURLOPT_CURLU.
    let handle: OpaquePointer
    /// "scheme://host:port": all of the URL an error message may show.
    let origin: String

    /// Parses `url`; throws `.invalidURL` (never quoting the URL itself) when it is not a usable http(s) URL.
    init(_ url: String) throws(HTTPTransportError) {
        guard !url.utf8.contains(0) else { throw .invalidURL("the URL contains a NUL byte") }
        guard let handle = curl_url() else { throw .invalidURL("libcurl could not allocate a URL parser") }
        let parsed = curl_url_set(handle, CURLUPART_URL, url, UInt32(CURLU_NON_SUPPORT_SCHEME))
        guard parsed == CURLUE_OK else {
            curl_url_cleanup(handle)
            throw .invalidURL("cannot parse it (\(String(cString: curl_url_strerror(parsed))))")
        }
        let scheme = (Self.part(CURLUPART_SCHEME, of: handle) ?? "").lowercased()
        let host = Self.part(CURLUPART_HOST, of: handle) ?? ""
        let port = Self.part(CURLUPART_PORT, of: handle, flags: UInt32(CURLU_DEFAULT_PORT)) ?? "?"
        let shownScheme = String(scheme.unicodeScalars.prefix(20).filter { $0.properties.isAlphabetic || "+-.".unicodeScalars.contains($0) })
        guard scheme == "http" || scheme == "https" else {
            curl_url_cleanup(handle)
            throw .invalidURL("unsupported scheme '\(shownScheme)' (only http and https)")
        }
        guard !host.isEmpty else {
            curl_url_cleanup(handle)
            throw .invalidURL("\(scheme):// URL without a host")
        }
        self.handle = handle
        origin = "\(scheme)://\(host):\(port)"
    }

    deinit {
        curl_url_cleanup(handle)
    }

    private static func part(_ part: CURLUPart, of handle: OpaquePointer, flags: UInt32 = 0) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, part, &value, flags) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }
}
