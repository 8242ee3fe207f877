import Glibc
import SymphonyConcurrency
import SymphonyEvents

/// A progress line on standard error ("12,288 events read…"), shown only when standard error is a
/// terminal, at most twice a second; cleared before any other line is written there.
final class ProgressLine: Sendable {
    private struct State {
        var lastUpdate = Timestamp.now()
        var shown = false
    }

    private let enabled = isatty(STDERR_FILENO) == 1
    private let state = Locked(State())

    func update(_ count: Int) {
        guard enabled, count % 1024 == 0 else { return }
        let now = Timestamp.now()
        state.withLock { state in
            guard state.lastUpdate.duration(to: now) >= .milliseconds(500) else { return }
            state.lastUpdate = now
            state.shown = true
            writeAll(Array("\r\u{1B}[K  \(grouped(count)) events read…".utf8), to: STDERR_FILENO)
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
