/// The real wall clock (`CLOCK_REALTIME`); sleeps are timed waits on the monotonic clock.
public struct SystemClock: SchedulerClock {
    /// The longest single sleep, so a wall-clock jump is noticed within this time.
    public static let maximumSleep: Duration = .seconds(1)

    /// The system clock.
    public init() {}

    public func now() -> Timestamp { .now() }

    public func sleepInterval(until deadline: Timestamp) -> Duration? {
        min(now().duration(to: deadline), Self.maximumSleep)
    }

    public func onAdvance(_ callback: @escaping @Sendable () -> Void) {}
}
