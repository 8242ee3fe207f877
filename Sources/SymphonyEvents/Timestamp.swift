import Glibc

/// A point in wall-clock time: nanoseconds since 1970-01-01T00:00:00Z.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since the Unix epoch.
    public var nanosecondsSinceEpoch: Int64

    /// A timestamp from nanoseconds since the Unix epoch.
    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// A timestamp from whole seconds since the Unix epoch.
    public init(secondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = secondsSinceEpoch * 1_000_000_000
    }

    /// The current wall-clock time (`CLOCK_REALTIME`).
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }

    /// This timestamp moved by `duration` (negative durations move it back), saturating at the representable range.
    public func advanced(by duration: Duration) -> Timestamp {
        let (sum, overflow) = nanosecondsSinceEpoch.addingReportingOverflow(duration.nanoseconds)
        return Timestamp(nanosecondsSinceEpoch: overflow ? (duration < .zero ? .min : .max) : sum)
    }

    /// The duration from this timestamp to `other` (negative when `other` is earlier), saturating.
    public func duration(to other: Timestamp) -> Duration {
        let (difference, overflow) = other.nanosecondsSinceEpoch.subtractingReportingOverflow(nanosecondsSinceEpoch)
        return .nanoseconds(overflow ? (other < self ? Int64.min : Int64.max) : difference)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp { lhs.advanced(by: rhs) }

    /// RFC 3339 in UTC with nanoseconds, e.g. `2026-11-29T03:48:03.000000001Z`.
    public var description: String {
        var seconds = nanosecondsSinceEpoch / 1_000_000_000
        var nanos = nanosecondsSinceEpoch % 1_000_000_000
        if nanos < 0 {
            seconds -= 1
            nanos += 1_000_000_000
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let year = Int(parts.tm_year) + 1900
        if (0...9999).contains(year) {
            // The usual case, written straight into the string's storage: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
            return String(unsafeUninitializedCapacity: 30) { buffer in
                func digits(_ value: Int, _ width: Int, at start: Int) {
                    var value = value
                    for index in stride(from: start + width - 1, through: start, by: -1) {
                        buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                        value /= 10
                    }
                }
                digits(year, 4, at: 0)
                buffer[4] = UInt8(ascii: "-")
                digits(Int(parts.tm_mon) + 1, 2, at: 5)
                buffer[7] = UInt8(ascii: "-")
                digits(Int(parts.tm_mday), 2, at: 8)
                buffer[10] = UInt8(ascii: "T")
                digits(Int(parts.tm_hour), 2, at: 11)
                buffer[13] = UInt8(ascii: ":")
                digits(Int(parts.tm_min), 2, at: 14)
                buffer[16] = UInt8(ascii: ":")
                digits(Int(parts.tm_sec), 2, at: 17)
                buffer[19] = UInt8(ascii: ".")
                digits(Int(nanos), 9, at: 20)
                buffer[29] = UInt8(ascii: "Z")
                return 30
            }
        }
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(Int(nanos), 9))Z"
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating at the bounds of Int64).
    public var nanoseconds: Int64 {
        // `components` traps when the seconds do not fit an Int64: saturate before asking.
        if self >= .nanoseconds(Int64.max) { return .max }
        if self <= .nanoseconds(Int64.min) { return .min }
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled &+ attoseconds / 1_000_000_000
    }
}
