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
            if let at = bytes[start...].firstIndex(of: UInt8(ascii: "@")),
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

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for index in start...(haystack.count - needle.count) where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}
