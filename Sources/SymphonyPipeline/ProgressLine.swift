import Glibc
import SymphonyConcurrency
import SymphonyEvents

/// A progress line on standard error ("12,288 events read, 41,000/s, queue 512…"), shown only
/// when standard error is a terminal, at most twice a second; cleared before any other line is
/// written there.
final class ProgressLine: Sendable {
    private struct State {
        var started = Timestamp.now()
        var lastUpdate = Timestamp.now()
        var shown = false
        var queueDepth: (@Sendable () -> Int)?
    }

    private let enabled = isatty(STDERR_FILENO) == 1
    private let state = Locked(State())

    /// Where the queue's depth is read from (set once the run exists).
    func showQueueDepth(_ depth: @escaping @Sendable () -> Int) {
        state.withLock { $0.queueDepth = depth }
    }

    func update(_ count: Int) {
        guard enabled, count % 1024 == 0 else { return }
        let now = Timestamp.now()
        state.withLock { state in
            guard state.lastUpdate.duration(to: now) >= .milliseconds(500) else { return }
            state.lastUpdate = now
            state.shown = true
            let seconds = max(0.001, Double(state.started.duration(to: now).nanoseconds) / 1e9)
            var text = "  \(grouped(count)) events read, \(grouped(Int(Double(count) / seconds)))/s"
            if let depth = state.queueDepth { text += ", queue \(grouped(depth()))" }
            writeAll(Array("\r\u{1B}[K\(text)…".utf8), to: STDERR_FILENO)
        }
    }

    func clear() {
        guard enabled else { return }
        state.withLock { state in
            guard state.shown else { return }
            state.shown = false
            writeAll(Array("\r\u{1B}[K".utf8), to: STDERR_FILENO)
        }
    }
}
