import SymphonyConcurrency
import SymphonyEvents

/// The clock of a replay (`symphony run --replay`): it reads the time of the input, not of the
/// machine. The first input event sets it; later ones only move it forward, and each move lets
/// the scheduler fire what came due. Before any input it reads the earliest time there is, so
/// nothing stored by an earlier run is due before the input's time passes it.
final class ReplayClock: SchedulerClock {
    private struct State {
        var now: Timestamp?
        var observers: [@Sendable () -> Void] = []
    }

    private let state = Locked(State())

    func now() -> Timestamp { state.withLock { $0.now } ?? Timestamp(nanosecondsSinceEpoch: .min) }

    func sleepInterval(until deadline: Timestamp) -> Duration? {
        deadline <= now() ? .zero : nil  // only the input moves this clock: sleep until it does
    }

    func onAdvance(_ callback: @escaping @Sendable () -> Void) {
        state.withLock { $0.observers.append(callback) }
    }

    /// True when `advance(to: time)` would move the clock (it is not set yet, or `time` is later).
    func wouldMove(to time: Timestamp) -> Bool {
        state.withLock { state in state.now.map { time > $0 } ?? true }
    }

    /// Moves the clock to `time` (never back, once set) and lets the scheduler fire what is due.
    func advance(to time: Timestamp) {
        let observers = state.withLock { state -> [@Sendable () -> Void] in
            if let now = state.now, time <= now { return [] }
            state.now = time
            return state.observers
        }
        for observer in observers { observer() }
    }
}
