import CCurl
import Glibc

/// Reads a Retry-After header value as a delay.
enum RetryAfterParser {
    /// Delta-seconds ("120"), or an HTTP-date relative to `now` (past dates give `.zero`); nil when neither.
    static func delay(from value: String, now: time_t = time(nil)) -> Duration? {
        let trimmed = value.trimmingSpaces()
        guard !trimmed.isEmpty else { return nil }
        if trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return .seconds(Int64(trimmed) ?? Int64.max)
        }
        // An HTTP-date names a weekday or month; without a letter curl_getdate would guess too freely.
        guard trimmed.contains(where: \.isLetter), !trimmed.utf8.contains(0) else { return nil }
        let date = curl_getdate(trimmed, nil)
        guard date != -1 else { return nil }
        return date > now ? .seconds(Int64(date - now)) : .zero
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
