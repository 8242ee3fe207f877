/// Where the scheduler reads the time, so tests can move time by hand instead of sleeping.
public protocol SchedulerClock: Sendable {
    /// The current time.
    func now() -> Timestamp

    /// How long a thread waiting for `deadline` may sleep before it looks at `now()` again;
    /// `.zero` (or less) when the deadline has passed, nil to sleep until woken by an advance.
    func sleepInterval(until deadline: Timestamp) -> Duration?

    /// Registers `callback` to run on the advancing thread whenever this clock's time jumps forward;
    /// clocks that follow real time never call it.
    func onAdvance(_ callback: @escaping @Sendable () -> Void)
}
