/// Connection URLs as they may appear in messages.
public enum PostgresURL {
    /// True when `text` names a PostgreSQL store (`postgres://` or `postgresql://`).
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// The URL with its password masked: `user:PASSWORD@` and every `password=VALUE` (URL
    /// parameter or libpq `key=value` form) become `***`.
    public static func redacted(_ url: String) -> String {
        var bytes = Array(url.utf8)
        let masked = Array("***".utf8)
        if let scheme = find(Array("://".utf8), in: bytes, from: 0) {
            let start = scheme + 3
            let authorityEnd = bytes[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
            if let at = bytes[start..<authorityEnd].lastIndex(of: UInt8(ascii: "@")),
                let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":"))
            {
                bytes.replaceSubrange((colon + 1)..<at, with: masked)
            }
        }
        let key = Array("password=".utf8)
        var from = 0
        while let found = find(key, in: bytes, from: from) {
            let valueStart = found + key.count
            let end = bytes[valueStart...].firstIndex { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: " ") } ?? bytes.endIndex
            bytes.replaceSubrange(valueStart..<end, with: masked)
            from = valueStart + masked.count
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` with every password `url` holds, and the URL itself, replaced by their masked forms.
    public static func masking(_ url: String, in text: String) -> String {
        var masked = text.replacingAll(url, with: redacted(url))
        for password in passwords(in: url) where password.count >= 1 {
            masked = masked.replacingAll(password, with: "***")
        }
        return masked
    }

    /// The password texts in `url`: after `user:` and after each `password=`.
    static func passwords(in url: String) -> [String] {
        let bytes = Array(url.utf8)
        var found: [String] = []
        if let scheme = find(Array("://".utf8), in: bytes, from: 0) {
            let start = scheme + 3
            let authorityEnd = bytes[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
            if let at = bytes[start..<authorityEnd].lastIndex(of: UInt8(ascii: "@")),
                let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":"))
            {
                found.append(String(decoding: bytes[(colon + 1)..<at], as: UTF8.self))
            }
        }
        let key = Array("password=".utf8)
        var from = 0
        while let index = find(key, in: bytes, from: from) {
            let valueStart = index + key.count
            let end = bytes[valueStart...].firstIndex { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: " ") } ?? bytes.endIndex
            found.append(String(decoding: bytes[valueStart..<end], as: UTF8.self))
            from = valueStart
        }
        return found.filter { !$0.isEmpty && $0 != "***" }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for index in start...(haystack.count - needle.count) where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}

extension String {
    /// The text with every occurrence of `target` replaced by `replacement`.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var bytes = Array(utf8)
        let needle = Array(target.utf8)
        let substitute = Array(replacement.utf8)
        var index = 0
        while index + needle.count <= bytes.count {
            if bytes[index..<(index + needle.count)].elementsEqual(needle) {
                bytes.replaceSubrange(index..<(index + needle.count), with: substitute)
                index += substitute.count
            } else {
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
