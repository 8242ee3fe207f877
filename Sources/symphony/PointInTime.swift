import ArgumentParser
import SymphonyEvents
import SymphonyRules

/// A `--since`/`--until` value: a duration back from now (`30m`, `24h`, `7d`) or an RFC 3339 time;
/// nil when not given; a usage error otherwise.
func pointInTime(_ text: String?, flag: String) throws -> Timestamp? {
    guard let text else { return nil }
    if let duration = DurationParser.parse(text) { return Timestamp.now().advanced(by: .zero - duration) }
    if let time = TimestampParser.parse(text) { return time }
    throw ValidationError("\(flag) takes a duration (30m, 24h, 7d) or an RFC 3339 time, not '\(text)'.")
}
