import Synchronization
import SymphonyConcurrency

/// A clock that moves only when told: `advance(by:)` jumps time forward and runs the scheduler's due work before returning.
///
/// Tests schedule an event, advance to one nanosecond before it is due (nothing fires), then to
/// the due time (it fires) — with no sleeping and no timing luck.
public final class ManualClock: SchedulerClock {
    private struct State {
        var now: Timestamp
        var observers: [@Sendable () -> Void] = []
    }

    private let state: Locked<State>

    /// A clock reading `start` (by default 2023-11-14T22:13:20Z).
    public init(start: Timestamp = Timestamp(secondsSinceEpoch: 1_700_000_000)) {
        state = Locked(State(now: start))
    }

    public func now() -> Timestamp { state.withLock { $0.now } }

    public func sleepInterval(until deadline: Timestamp) -> Duration? {
        let now = now()
        return deadline <= now ? .zero : nil
    }

    public func onAdvance(_ callback: @escaping @Sendable () -> Void) {
        state.withLock { $0.observers.append(callback) }
    }

    /// Moves time forward by `duration`, then runs every observer (the scheduler fires what became due).
    ///
    /// `advance(by: .zero)` fires what is already due without moving time.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a ManualClock only moves forward")
        let observers = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            return state.observers
        }
        for observer in observers { observer() }
    }

    /// Moves time forward to `timestamp` (no-op when it is not later than now).
    public func advance(to timestamp: Timestamp) {
        let distance = now().duration(to: timestamp)
        if distance > .zero { advance(by: distance) }
    }
}
