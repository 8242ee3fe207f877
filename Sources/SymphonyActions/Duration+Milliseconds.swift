extension Duration {
    /// Whole milliseconds, rounded up, clamped to `0...limit`: negative durations give 0 and
    /// huge ones cannot overflow.
    func millisecondsRoundedUp(clampedTo limit: Int64) -> Int64 {
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        if seconds >= limit / 1000 { return limit }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return min(limit, seconds * 1000 + fraction)
    }
}
